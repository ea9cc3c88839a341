package sdk

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/batchmsg"
)

func TestBrokerTransportPublishesOneMessagePerBatch(t *testing.T) {
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 16}, nil)
	defer pubsub.Close()
	msgs, err := pubsub.Subscribe(context.Background(), "custody.events")
	if err != nil {
		t.Fatal(err)
	}
	c, errs := newTestClient(t, Config{BatchSize: 10, FlushInterval: time.Hour},
		&BrokerTransport{Publisher: pubsub, Topic: "custody.events"})
	evs := orders(25)
	if err := c.Emit(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var got []*Event
	for range 3 {
		select {
		case msg := <-msgs:
			msg.Ack()
			batch, err := batchmsg.Decode(msg)
			if err != nil {
				t.Fatalf("batchmsg.Decode: %v", err)
			}
			if src := msg.Metadata.Get(batchmsg.MetaSource); src != "sdk/checkout-service" {
				t.Errorf("source %q, want sdk/checkout-service", src)
			}
			sizes = append(sizes, len(batch))
			got = append(got, batch...)
		case <-time.After(5 * time.Second):
			t.Fatalf("received %d messages, want 3", len(sizes))
		}
	}
	select {
	case msg := <-msgs:
		t.Errorf("unexpected fourth message %s", msg.UUID)
	case <-time.After(20 * time.Millisecond):
	}
	// gochannel does not keep the order of messages; the client sent them in
	// order.
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{5, 10, 10}) {
		t.Errorf("messages of %v events, want 10, 10 and 5", sizes)
	}
	want := map[uuid.UUID]bool{}
	for _, e := range evs {
		want[e.ID] = true
	}
	for _, e := range got {
		if !want[e.ID] || e.Source != "checkout-service" || e.Tenant != DefaultTenant {
			t.Errorf("unexpected event %s from %q (tenant %q)", e.ID, e.Source, e.Tenant)
		}
		delete(want, e.ID)
	}
	if len(want) > 0 {
		t.Errorf("%d events not published", len(want))
	}
	if l := errs.list(); len(l) > 0 {
		t.Errorf("OnError: %v", l)
	}
}

// flakyPublisher fails its first failures publishes.
type flakyPublisher struct {
	mu        sync.Mutex
	failures  int
	published []*message.Message
	calls     int
}

func (p *flakyPublisher) Publish(_ string, msgs ...*message.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.failures > 0 {
		p.failures--
		return errors.New("nats: no responders available for request")
	}
	p.published = append(p.published, msgs...)
	return nil
}

func (p *flakyPublisher) Close() error { return nil }

func TestBrokerTransportRetriesPublishErrors(t *testing.T) {
	pub := &flakyPublisher{failures: 2}
	c, _ := newTestClient(t, Config{}, &BrokerTransport{Publisher: pub, Topic: "custody.events", Source: "billing"})
	if err := c.Emit(context.Background(), orders(2)...); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatalf("Flush = %v, want delivered after retries", err)
	}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if pub.calls != 3 || len(pub.published) != 1 {
		t.Fatalf("%d publishes, %d succeeded; want 3 and 1", pub.calls, len(pub.published))
	}
	if src := pub.published[0].Metadata.Get(batchmsg.MetaSource); src != "sdk/billing" {
		t.Errorf("source %q, want sdk/billing", src)
	}
}
