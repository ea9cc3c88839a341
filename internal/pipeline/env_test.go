package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/batchmsg"
	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/pipeline"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

// env is a real embedded NATS JetStream server with the stream and the
// pipeline's consumer, a publisher, and a real event log on chDB.
type env struct {
	t        *testing.T
	server   *broker.Embedded
	cfg      broker.Config
	pub      message.Publisher
	log      *eventlog.Log
	rejected *rejected.Store
	signer   *batchmsg.Signer // the ingest sink's (sinks in tests sign with it)
	tax      *taxonomy.Taxonomy
	registry *prometheus.Registry
	js       jetstream.JetStream
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	conn := chtest.Embedded(t)
	lt := logtest.Open(t, conn)
	l := lt.Log
	signer, err := batchmsg.NewSigner(lt.Hasher.DeriveKey(batchmsg.SignerPurpose))
	if err != nil {
		t.Fatal(err)
	}
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := broker.StartEmbedded(context.Background(), broker.EmbeddedConfig{Dir: t.TempDir()}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	cfg := broker.Config{
		InProcess: srv.Config().InProcess,
		// Short enough that a batch whose ack was lost in a shutdown comes
		// back within the test, long enough that a busy batch is not
		// redelivered while it is being appended.
		AckWait:       5 * time.Second,
		NakDelay:      100 * time.Millisecond,
		MaxAckPending: 16,
	}.WithDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := broker.EnsureStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	pub, err := broker.NewPublisher(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, server: srv, cfg: cfg, pub: pub, log: l, rejected: rejected.New(conn, lt.Keys), signer: signer, tax: tax,
		registry: prometheus.NewRegistry(), js: js}
}

// keepRejected keeps the pipeline's rejections in the real store.
type keepRejected struct{ store *rejected.Store }

func (k keepRejected) Keep(ctx context.Context, results []event.Result) error {
	return k.store.Put(ctx, rejected.FromResults(results, rejected.StagePipeline, time.Now()))
}

// sink is the HTTP ingest's sink, signing as the node's does.
func (e *env) sink() *broker.Sink {
	return broker.NewSink(e.pub, e.cfg.Subject, e.signer)
}

// pipelineConfig retries quickly so that tests do not wait on backoff.
func (e *env) pipelineConfig() pipeline.Config {
	return pipeline.Config{
		Topic:          e.cfg.Subject,
		Retry:          pipeline.Retry{MaxRetries: 5, InitialInterval: 10 * time.Millisecond, MaxInterval: 100 * time.Millisecond},
		HandlerTimeout: 30 * time.Second,
		Signer:         e.signer,
		Validation:     event.Options{Vocabulary: e.tax},
		Rejected:       keepRejected{e.rejected},
	}
}

// running is a started pipeline: cancel ends Run's context, wait returns
// Run's result.
type running struct {
	cancel func()
	wait   func() error
	p      *pipeline.Pipeline
}

// start runs a pipeline on app with a new subscriber and waits until it
// handles messages. Stop (also at the end of the test) cancels its context
// and returns Run's result.
func (e *env) start(app pipeline.Appender, cfg pipeline.Config) *running {
	t := e.t
	t.Helper()
	sub, err := broker.NewSubscriber(e.cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(cfg, sub, e.pub, app, testLogger(), e.registry)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-p.Running():
	case err := <-done:
		cancel()
		t.Fatalf("pipeline did not start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("pipeline not running after 10s")
	}
	var once sync.Once
	var result error
	wait := func() error {
		once.Do(func() {
			select {
			case result = <-done:
			case <-time.After(60 * time.Second):
				result = fmt.Errorf("pipeline did not stop within 60s")
			}
		})
		return result
	}
	t.Cleanup(func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("stop pipeline: %v", err)
		}
	})
	return &running{cancel: cancel, wait: wait, p: p}
}

// publish sends events as one batch message straight to the broker, as a
// producer that skips the Sink's checks would.
func (e *env) publish(events []*event.Event) *message.Message {
	e.t.Helper()
	m, err := batchmsg.Encode(events, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.pub.Publish(e.cfg.Subject, m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) count() uint64 {
	e.t.Helper()
	n, err := e.log.Count(context.Background(), "")
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// waitCount polls the log until it holds want events, failing after within
// or as soon as it holds more.
func (e *env) waitCount(want uint64, within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := e.count()
		if n == want {
			return
		}
		if n > want {
			e.t.Fatalf("log holds %d events, more than %d", n, want)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("log holds %d events after %s, want %d", n, within, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitIdle waits until the consumer has delivered and had acknowledged
// every message.
func (e *env) waitIdle(within time.Duration) jetstream.ConsumerInfo {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		info := e.consumer()
		if info.NumPending == 0 && info.NumAckPending == 0 {
			return info
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("consumer not idle after %s: pending %d, awaiting ack %d", within, info.NumPending, info.NumAckPending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) consumer() jetstream.ConsumerInfo {
	e.t.Helper()
	c, err := e.js.Consumer(context.Background(), e.cfg.Stream, e.cfg.Durable)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return *info
}

// messagesOn counts the stream's messages on subject.
func (e *env) messagesOn(subject string) uint64 {
	e.t.Helper()
	s, err := e.js.Stream(context.Background(), e.cfg.Stream)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		e.t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

// poisoned reads every message on the poison subject.
func (e *env) poisoned() []jetstream.Msg {
	e.t.Helper()
	ctx := context.Background()
	n := e.messagesOn(e.cfg.PoisonSubject)
	if n == 0 {
		return nil
	}
	c, err := e.js.OrderedConsumer(ctx, e.cfg.Stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{e.cfg.PoisonSubject}})
	if err != nil {
		e.t.Fatal(err)
	}
	batch, err := c.Fetch(int(n), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []jetstream.Msg
	for m := range batch.Messages() {
		out = append(out, m)
	}
	return out
}

// visibleIDs scans the whole log and returns every id a reader sees, with
// its multiplicity.
func (e *env) visibleIDs() map[uuid.UUID]int {
	e.t.Helper()
	seen := map[uuid.UUID]int{}
	var cur eventlog.Cursor
	for {
		page, next, err := e.log.Scan(context.Background(), cur, 5000)
		if err != nil {
			e.t.Fatalf("scan: %v", err)
		}
		if len(page) == 0 {
			return seen
		}
		for _, r := range page {
			seen[r.Event.ID]++
		}
		cur = next
	}
}

// assertEachOnce checks that the log shows exactly the distinct ids of
// events, each once.
func (e *env) assertEachOnce(events []*event.Event) {
	e.t.Helper()
	want := map[uuid.UUID]bool{}
	for _, ev := range events {
		want[ev.ID] = true
	}
	seen := e.visibleIDs()
	if len(seen) != len(want) {
		e.t.Fatalf("log shows %d distinct events, want %d", len(seen), len(want))
	}
	for id, k := range seen {
		if !want[id] {
			e.t.Fatalf("log shows unexpected event %s", id)
		}
		if k != 1 {
			e.t.Fatalf("event %s visible %d times", id, k)
		}
	}
}

// metric returns the value of a counter (labels as name=value pairs).
func (e *env) metric(name string, labels ...string) float64 {
	e.t.Helper()
	families, err := e.registry.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

// generate builds n valid events about people subjects, deterministic in
// content (ids are random).
func generate(n, people int, seed uint64) []*event.Event {
	r := rand.New(rand.NewPCG(seed, seed))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*event.Event, n)
	for i := range out {
		p := r.IntN(people)
		e := &event.Event{
			ID: uuid.New(), SpecVersion: event.SpecVersion, Source: "checkout-service", Tenant: "acme",
			Time: base.Add(time.Duration(r.IntN(365*24*3600)) * time.Second),
			Subject: event.Subject{Identifiers: []event.Identifier{
				{Kind: identity.Email, Value: fmt.Sprintf("person%d@example.com", p)},
				{Kind: identity.CustomerID, Value: fmt.Sprintf("C-%d", p)},
			}},
		}
		switch i % 3 {
		case 0:
			e.Type = event.TypeCollected
			e.Data = &event.Collected{
				Elements: []event.Element{
					{Name: "email", Category: "contact.email", Value: json.RawMessage(fmt.Sprintf("%q", fmt.Sprintf("person%d@example.com", p)))},
					{Name: "ip", Category: "online.ip_address"},
				},
				Origin: event.Origin{Kind: "consumer", Name: "checkout form"}, Purposes: []string{"order_fulfilment"}, System: "orders-db",
			}
		case 1:
			e.Type = event.TypeShared
			e.Data = &event.Shared{
				Recipient:  event.Recipient{Name: "AdNet", Kind: "advertising_network", Role: "third_party", Country: "US"},
				Elements:   []event.Element{{Name: "email", Category: "contact.email"}},
				Purposes:   []string{"targeted_advertising"},
				Disclosure: "sharing", System: "crm",
			}
		default:
			e.Type = event.TypeConsentChanged
			e.Data = &event.ConsentChanged{Choice: "sale", Status: event.ConsentStatus("opted_out"), Mechanism: "gpc"}
		}
		out[i] = e
	}
	return out
}

// batches splits events into slices of size.
func batches(events []*event.Event, size int) [][]*event.Event {
	var out [][]*event.Event
	for i := 0; i < len(events); i += size {
		out = append(out, events[i:min(i+size, len(events))])
	}
	return out
}
