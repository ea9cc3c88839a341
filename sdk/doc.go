// Package sdk is the Go SDK for Custody: services use it to record what they
// do with personal data — collect, share, process, transfer, correct, erase,
// consent changes, and which identifiers belong to one person.
//
// # Building events
//
// One constructor per event type takes the subject and the type's data:
//
//	jane := sdk.Person(sdk.Email("jane@example.com"), sdk.CustomerID("C-1009"))
//	ev := sdk.Collected(jane, sdk.CollectedData{
//		Elements: []sdk.Element{sdk.ElemValue("email", "contact.email", "jane@example.com")},
//		Origin:   sdk.Origin{Kind: "consumer", Name: "checkout"},
//		Purposes: []string{"order_fulfilment"},
//		System:   "orders-db",
//	})
//
// Collected, Shared, Processed, Transferred, Corrected, Erased,
// ConsentChanged and Linked give every event a UUIDv7 id (the idempotency
// key) and the current time; options override them (WithID, At) and the
// client's tenant and source (WithTenant, WithSource). Categories, purposes,
// source and recipient kinds and the other terms are keys of Custody's
// taxonomy (schema/taxonomy in the Custody repository).
//
// # Emitting
//
// A Client validates, buffers, batches and delivers:
//
//	client, err := sdk.New(sdk.Config{Source: "checkout-service"},
//		&sdk.HTTPTransport{URL: "http://custody:8080", Token: token})
//	...
//	err = client.Emit(ctx, ev)  // validates now, never waits for the network
//	...
//	err = client.Close(ctx)     // delivers what is pending
//
// Emit checks each event exactly as Custody will — structure, identifiers
// and taxonomy terms, with the same taxonomy — and returns a
// *ValidationError listing every problem with its JSON path
// (data.elements[0].category: unknown category `contact.emial`; did you
// mean `contact.email`?). Invalid events are never enqueued, so a mistake
// surfaces in the service's own code path, not in a log far away.
//
// Valid events go to a bounded buffer (Config.BufferSize). When it is full
// — Custody has been unreachable long enough — Emit returns ErrBufferFull
// at once: the SDK never blocks its caller indefinitely, and the caller
// decides whether to drop, spill or fail.
//
// # Delivery
//
// One background goroutine sends a batch when BatchSize events are waiting
// or the oldest has waited FlushInterval. Failures that may heal (network
// errors, HTTP 5xx and 503, 408, 429, broker publish errors) are retried up
// to MaxRetries times with exponential backoff and full jitter, capped by
// RetryMax, honouring the server's Retry-After. Retrying is safe: event ids
// are idempotency keys, so a batch delivered twice is recorded once.
// Permanent failures (400, 401, 403, 413) are not retried, nor are events
// Custody refuses one by one (HTTP 207 and 422 answers).
//
// An event is never dropped silently: every event that is not delivered is
// reported, with its id and the reason (per-field errors for refused
// events), in a *DeliveryError passed to Config.OnError and returned by the
// next Flush or Close. Flush waits until everything emitted before it is
// delivered or failed; Close flushes and stops the goroutine. Both honour
// their context.
//
// # Transports
//
// HTTPTransport posts NDJSON batches to POST /v1/events, from anywhere.
// BrokerTransport publishes each batch as one message to the broker Custody's
// ingest pipeline reads, for services inside the same infrastructure. It
// takes any Watermill message.Publisher: NATS JetStream (Custody's default,
// github.com/ThreeDotsLabs/watermill-nats) or Kafka
// (github.com/ThreeDotsLabs/watermill-kafka) plug in alike. Other transports
// implement Transport.
//
// # Personal data
//
// Identifier and element values are personal data. Event, Identifier and
// Element print and log without them, and the SDK's errors carry only event
// ids, paths and reasons.
package sdk
