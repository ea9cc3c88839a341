package sdk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"

	"github.com/custodyhq/custody/sdk"
)

// fakeCustody stands in for Custody's POST /v1/events: it prints each event
// it receives and accepts them all, answering as Custody does.
func fakeCustody() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		type result struct {
			Index  int    `json:"index"`
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		var results []result
		lines := bufio.NewScanner(r.Body)
		for lines.Scan() {
			var ev struct{ ID, Type, Source, Tenant string }
			if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Printf("custody received %s from %s (tenant %s)\n", ev.Type, ev.Source, ev.Tenant)
			results = append(results, result{Index: len(results), ID: ev.ID, Status: "accepted"})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"accepted": len(results), "duplicates": 0, "rejected": 0, "results": results,
		})
	}))
}

// A checkout service records that it collected Jane's email address and card
// and that it shared her email address with an ad network.
func Example() {
	custody := fakeCustody() // in production: Custody's base URL
	defer custody.Close()

	client, err := sdk.New(sdk.Config{
		Source:  "checkout-service",
		Tenant:  "inkcartridges",
		OnError: func(err error) { log.Printf("custody: %v", err) }, // events not delivered
	}, &sdk.HTTPTransport{URL: custody.URL})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	jane := sdk.Person(sdk.Email("jane@example.com"), sdk.CustomerID("C-1009"))
	err = client.Emit(ctx,
		sdk.Collected(jane, sdk.CollectedData{
			Elements: []sdk.Element{
				sdk.ElemValue("email", "contact.email", "jane@example.com"),
				sdk.Elem("card", "financial.card_number"),
			},
			Origin:   sdk.Origin{Kind: "consumer", Name: "checkout"},
			Purposes: []string{"order_fulfilment", "payment_processing"},
			System:   "orders-db",
		}),
		sdk.Shared(jane, sdk.SharedData{
			Recipient:  sdk.Recipient{Name: "AdNetwork Inc", Kind: "advertising_network", Role: "third_party", Country: "US"},
			Elements:   []sdk.Element{sdk.Elem("email", "contact.email")},
			Purposes:   []string{"targeted_advertising"},
			Disclosure: "sharing",
			System:     "crm",
		}),
	)
	if err != nil {
		log.Fatal(err) // a *sdk.ValidationError names every bad field
	}

	// Close delivers what is still buffered.
	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.Close(closeCtx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// custody received data.collected from checkout-service (tenant inkcartridges)
	// custody received data.shared from checkout-service (tenant inkcartridges)
}

// Emit checks events as Custody will and says which field is wrong and how
// to fix it; nothing of the call is enqueued.
func ExampleClient_Emit_validation() {
	client, err := sdk.New(sdk.Config{Source: "marketing"}, &sdk.HTTPTransport{URL: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(context.Background())

	ev := sdk.ConsentChanged(sdk.Person(sdk.Email("jane@example.com")), sdk.ConsentChangedData{
		Choice:    "marketing_emails",
		Status:    sdk.Withdrawn,
		Mechanism: "email_link",
	}, sdk.WithID(uuid.MustParse("0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10")))

	err = client.Emit(context.Background(), ev)
	var invalid *sdk.ValidationError
	if errors.As(err, &invalid) {
		fmt.Println(err)
	}
	// Output:
	// sdk: 1 of 1 events invalid, none emitted
	//   event 0 (0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10): data.choice: unknown consent choice `marketing_emails`; did you mean `marketing_email`?
}

// BrokerTransport publishes each batch as one message to the topic Custody's
// ingest pipeline reads. The publisher here is Watermill's in-memory
// gochannel; in production it is a NATS JetStream publisher
// (watermill-nats) or a Kafka one (watermill-kafka).
func ExampleBrokerTransport() {
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 8}, nil)
	defer pubsub.Close()
	messages, err := pubsub.Subscribe(context.Background(), "custody.events")
	if err != nil {
		log.Fatal(err)
	}

	client, err := sdk.New(sdk.Config{Source: "accounts"},
		&sdk.BrokerTransport{Publisher: pubsub, Topic: "custody.events"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	err = client.Emit(ctx,
		sdk.Linked(sdk.Person(sdk.CookieID("ck-81f2"), sdk.UserID("u-1009"))),
		sdk.ConsentChanged(sdk.Person(sdk.UserID("u-1009")), sdk.ConsentChangedData{
			Choice: "sale", Status: sdk.OptedOut, Mechanism: "gpc",
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Close(ctx); err != nil {
		log.Fatal(err)
	}

	msg := <-messages
	msg.Ack()
	fmt.Println("events:", msg.Metadata.Get("custody-events"), "from:", msg.Metadata.Get("custody-source"))
	// Output:
	// events: 2 from: sdk/accounts
}
