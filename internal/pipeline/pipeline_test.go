package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/custodyhq/custody/internal/batchmsg"
	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/pipeline"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

// Fault-injecting wrappers around the real event log.

// gatedLog fails every append while its gate is closed, as ClickHouse
// being down would.
type gatedLog struct {
	next     *eventlog.Log
	open     atomic.Bool
	failures atomic.Int64
}

func (g *gatedLog) Append(ctx context.Context, events []*event.Event) ([]eventlog.Outcome, error) {
	if !g.open.Load() {
		g.failures.Add(1)
		return nil, errors.New("clickhouse unavailable (injected)")
	}
	return g.next.Append(ctx, events)
}

// panickyLog panics on its first append.
type panickyLog struct {
	next   *eventlog.Log
	panics atomic.Int64
}

func (p *panickyLog) Append(ctx context.Context, events []*event.Event) ([]eventlog.Outcome, error) {
	if p.panics.Add(1) == 1 {
		var m map[string]int
		m["boom"]++ // nil map write: a real runtime panic
	}
	return p.next.Append(ctx, events)
}

// blockingLog holds its at-th append until released.
type blockingLog struct {
	next    *eventlog.Log
	at      int64
	calls   atomic.Int64
	reached chan struct{}
	release chan struct{}
}

func (b *blockingLog) Append(ctx context.Context, events []*event.Event) ([]eventlog.Outcome, error) {
	if b.calls.Add(1) == b.at {
		close(b.reached)
		<-b.release
	}
	return b.next.Append(ctx, events)
}

// cursedLog always fails batches holding one particular event.
type cursedLog struct {
	next   *eventlog.Log
	cursed uuid.UUID
}

func (c *cursedLog) Append(ctx context.Context, events []*event.Event) ([]eventlog.Outcome, error) {
	for _, e := range events {
		if e.ID == c.cursed {
			return nil, fmt.Errorf("storage rejects this batch (injected): %w", clickhouse.ErrBadRows)
		}
	}
	return c.next.Append(ctx, events)
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPipeline_StoresEachDistinctEventOnceDespiteDuplicateDeliveries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// 40 messages of 500 events: 475 new ones each, plus 25 duplicates
	// (5%), some of an event in the same message, some of one in the
	// previous message.
	distinct := generate(19_000, 2_000, 1)
	shuffle := rand.New(rand.NewPCG(7, 7))
	var msgs [][]*event.Event
	for k := range 40 {
		own := distinct[k*475 : (k+1)*475]
		m := append([]*event.Event(nil), own...)
		for j := range 25 {
			if k == 0 || j%2 == 0 {
				m = append(m, own[j*7])
			} else {
				m = append(m, distinct[(k-1)*475+j*11])
			}
		}
		shuffle.Shuffle(len(m), func(a, b int) { m[a], m[b] = m[b], m[a] })
		msgs = append(msgs, m)
	}
	e.start(e.log, e.pipelineConfig())
	sink := e.sink()

	start := time.Now()
	for k, m := range msgs {
		if k%2 == 1 { // as is, duplicates and all
			e.publish(m)
			continue
		}
		verdicts, err := sink.Accept(ctx, m) // through the ingest Sink
		if err != nil {
			t.Fatal(err)
		}
		if len(verdicts) != len(m) {
			t.Fatalf("%d verdicts for %d events", len(verdicts), len(m))
		}
		for i, v := range verdicts {
			if v != ingest.Accepted && v != ingest.Duplicate {
				t.Fatalf("verdict %d = %q", i, v)
			}
		}
	}
	published := time.Since(start)
	e.waitCount(19_000, 3*time.Minute)
	t.Logf("20,000 events (19,000 distinct) in 40 messages: published in %s, all in the log after %s",
		published.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	e.waitIdle(10 * time.Second)
	e.assertEachOnce(distinct)
	if got := e.metric("custody_pipeline_events_total", "outcome", "stored"); got != 19_000 {
		t.Fatalf("stored metric %v, want 19000", got)
	}
	if got := e.metric("custody_pipeline_batches_total", "result", "stored"); got != 40 {
		t.Fatalf("stored batches %v, want 40", got)
	}
	if got := e.metric("custody_pipeline_batch_duration_seconds"); got != 40 {
		t.Fatalf("latency samples %v, want 40", got)
	}
	if n := e.messagesOn(e.cfg.PoisonSubject); n != 0 {
		t.Fatalf("%d poisoned messages", n)
	}

	// Sending everything again through the Sink: accepted (ingest does
	// not ask the log), dropped by the pipeline's one check, visible once.
	dups := e.metric("custody_pipeline_events_total", "outcome", "duplicate")
	for _, part := range batches(distinct, 5_000) {
		verdicts, err := sink.Accept(ctx, part)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range verdicts {
			if v != ingest.Accepted {
				t.Fatalf("re-sent event %s: %q, want accepted", part[i].ID, v)
			}
		}
	}
	waitFor(t, "the re-sent events dropped", time.Minute, func() bool {
		return e.metric("custody_pipeline_events_total", "outcome", "duplicate") == dups+19_000
	})
	if got := e.metric("custody_pipeline_events_total", "outcome", "stored"); got != 19_000 {
		t.Fatalf("stored metric %v after re-sending, want 19000", got)
	}
	e.assertEachOnce(distinct)
}

func TestPipeline_RestartLosesNothingAndDoublesNothing(t *testing.T) {
	e := newEnv(t)
	events := generate(10_000, 1_000, 2)
	for _, m := range batches(events[:5_000], 500) {
		e.publish(m)
	}
	app := &blockingLog{next: e.log, at: 4, reached: make(chan struct{}), release: make(chan struct{})}
	first := e.start(app, e.pipelineConfig())
	select {
	case <-app.reached:
	case <-time.After(time.Minute):
		t.Fatal("fourth batch never started")
	}
	// Stop while the fourth batch is being appended: it finishes, the
	// rest waits in the broker.
	first.cancel()
	close(app.release)
	if err := first.wait(); err != nil {
		t.Fatalf("first pipeline: %v", err)
	}
	stopped := e.count()
	if stopped < 2_000 || stopped >= 5_000 {
		t.Fatalf("log holds %d events after the stop, want the 4 batches handled by then (2000) and not all 5000", stopped)
	}
	t.Logf("stopped with %d of 5000 published events stored", stopped)

	// Producers go on while no pipeline runs.
	for _, m := range batches(events[5_000:], 500) {
		e.publish(m)
	}
	start := time.Now()
	e.start(e.log, e.pipelineConfig())
	e.waitCount(10_000, 2*time.Minute)
	info := e.waitIdle(30 * time.Second)
	t.Logf("new pipeline caught up in %s; %d redelivered", time.Since(start).Round(time.Millisecond), info.NumRedelivered)
	e.assertEachOnce(events)
	if got := e.metric("custody_pipeline_events_total", "outcome", "stored"); got != 10_000 {
		t.Fatalf("stored metric %v over both pipelines, want 10000", got)
	}
	// The batch in flight at the stop was acked: nothing was appended twice.
	if got := e.metric("custody_pipeline_events_total", "outcome", "duplicate"); got != 0 {
		t.Fatalf("%v events appended again after the restart", got)
	}
}

func TestPipeline_RetriesWhileStorageFailsAndAcksOnlyAfterStoring(t *testing.T) {
	e := newEnv(t)
	events := generate(1_200, 100, 3)
	for _, m := range batches(events, 200) {
		e.publish(m)
	}
	app := &gatedLog{next: e.log}
	cfg := e.pipelineConfig()
	cfg.Retry = pipeline.Retry{MaxRetries: 30, InitialInterval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	e.start(app, cfg)

	waitFor(t, "three failed appends", 30*time.Second, func() bool { return app.failures.Load() >= 3 })
	if n := e.count(); n != 0 {
		t.Fatalf("log holds %d events while storage fails", n)
	}
	info := e.consumer()
	if info.AckFloor.Stream != 0 || info.NumAckPending == 0 {
		t.Fatalf("acked while storage fails: ack floor %d, awaiting ack %d", info.AckFloor.Stream, info.NumAckPending)
	}

	app.open.Store(true) // storage is back
	e.waitCount(1_200, time.Minute)
	e.waitIdle(10 * time.Second)
	e.assertEachOnce(events)
	if n := e.messagesOn(e.cfg.PoisonSubject); n != 0 {
		t.Fatalf("%d batches poisoned by a transient failure", n)
	}
	if got, want := e.metric("custody_pipeline_batches_total", "result", "failed"), float64(app.failures.Load()); got != want {
		t.Fatalf("failed attempts metric %v, want %v", got, want)
	}
}

func TestPipeline_ForeignMessagesGoToPoisonWithoutBlockingOthers(t *testing.T) {
	e := newEnv(t)
	good := generate(600, 50, 4)
	e.publish(good[:300])

	foreign := message.NewMessage(uuid.NewString(), []byte("hello, not events"))
	foreign.Metadata.Set("content-type", "text/plain")
	if err := e.pub.Publish(e.cfg.Subject, foreign); err != nil {
		t.Fatal(err)
	}
	damaged, err := batchmsg.Encode(generate(2, 1, 5), "test")
	if err != nil {
		t.Fatal(err)
	}
	damaged.Payload = []byte("{not json\n{\"id\":1}\n")
	if err := e.pub.Publish(e.cfg.Subject, damaged); err != nil {
		t.Fatal(err)
	}
	e.publish(good[300:])

	e.start(e.log, e.pipelineConfig())
	e.waitCount(600, time.Minute)
	e.waitIdle(10 * time.Second)
	e.assertEachOnce(good)

	// The damaged batch claims the JSON format and carries no signature:
	// it is untrusted input, its lines are rejected events (kept), not a
	// poisoned batch.
	if got := e.metric("custody_pipeline_events_total", "outcome", "rejected"); got != 2 {
		t.Fatalf("rejected events of the damaged batch %v, want 2", got)
	}
	poisoned := e.poisoned()
	if len(poisoned) != 1 {
		t.Fatalf("%d poisoned messages, want 1", len(poisoned))
	}
	byOriginal := map[string]string{foreign.UUID: "hello, not events"}
	for _, m := range poisoned {
		h := m.Headers()
		orig := h.Get(pipeline.MetaOriginalUUID)
		payload, ok := byOriginal[orig]
		if !ok {
			t.Fatalf("poisoned message with original uuid %q", orig)
		}
		delete(byOriginal, orig)
		if string(m.Data()) != payload {
			t.Fatalf("poisoned payload %q, want the original %q", m.Data(), payload)
		}
		if r := h.Get(middleware.ReasonForPoisonedKey); !strings.Contains(r, batchmsg.ErrFormat.Error()) {
			t.Fatalf("reason %q does not say the format is foreign", r)
		}
		if h.Get(middleware.PoisonedTopicKey) != e.cfg.Subject || h.Get(middleware.PoisonedHandlerKey) == "" || h.Get(pipeline.MetaPoisonedAt) == "" {
			t.Fatalf("poison metadata incomplete: %v", h)
		}
	}
	if orig := poisoned[0].Headers().Get(pipeline.MetaOriginalUUID); orig == foreign.UUID && poisoned[0].Headers().Get("content-type") != "text/plain" {
		t.Fatalf("original metadata lost: %v", poisoned[0].Headers())
	}
	if got := e.metric("custody_pipeline_batches_total", "result", "poisoned"); got != 1 {
		t.Fatalf("poisoned metric %v, want 1", got)
	}
	if got := e.metric("custody_pipeline_batches_total", "result", "failed"); got != 0 {
		t.Fatalf("format errors were retried: %v failed attempts", got)
	}
}

// Issue 17: a process that reached the broker published, past HTTP ingest's
// authentication and validation, a batch with the format header of the
// JSON form and an event of category "totally.bogus.category", and it was
// stored and served. Batches Custody's ingest did not sign are untrusted:
// their events are validated as HTTP ingest validates them (invalid ones
// kept as rejected, internal types refused), and a batch in the internal
// split form without a valid signature is poisoned, never stored.
func TestPipeline_UnsignedBatchesAreValidatedAsUntrustedInput(t *testing.T) {
	e := newEnv(t)
	events := generate(9, 3, 21) // every third is data.collected
	valid, bogus, internal := events[0], events[3], events[6]
	bogus.Data.(*event.Collected).Elements[0].Category = "totally.bogus.category"
	internal.Type = event.TypeRequestOpened
	forged, err := batchmsg.Encode([]*event.Event{valid, bogus, internal}, "intruder")
	if err != nil {
		t.Fatal(err)
	}
	// Published as an intruder would, with a plain NATS client and the
	// format header, not through the ingest sink.
	nc, err := e.server.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	raw := nats.NewMsg(e.cfg.Subject)
	raw.Data = forged.Payload
	raw.Header.Set(batchmsg.MetaFormat, batchmsg.FormatV1)
	raw.Header.Set(batchmsg.MetaCount, "3")
	if _, err := e.js.PublishMsg(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	// The internal split form: unsigned, and signed under another key.
	split := func(evs []*event.Event) *message.Message {
		entries := make([]event.Entry, len(evs))
		for i, ev := range evs {
			if entries[i], err = event.Split(ev); err != nil {
				t.Fatal(err)
			}
		}
		return batchmsg.EncodeEntries(entries, "intruder")
	}
	unsigned := split(generate(5, 5, 22))
	otherKey, err := batchmsg.NewSigner(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	wrongKey := split(generate(5, 5, 23))
	otherKey.Sign(wrongKey)
	tampered := split(generate(5, 5, 24))
	e.signer.Sign(tampered)
	tampered.Metadata.Set(batchmsg.MetaSource, "http-but-not-really")
	for _, m := range []*message.Message{unsigned, wrongKey, tampered} {
		if err := e.pub.Publish(e.cfg.Subject, m); err != nil {
			t.Fatal(err)
		}
	}

	e.start(e.log, e.pipelineConfig())
	e.waitCount(1, time.Minute)
	waitFor(t, "three poisoned batches", time.Minute, func() bool { return len(e.poisoned()) == 3 })
	e.waitIdle(5 * time.Second)
	if n := e.count(); n != 1 {
		t.Fatalf("%d events stored, want only the valid one", n)
	}
	e.assertEachOnce([]*event.Event{valid})
	if got := e.metric("custody_pipeline_events_total", "outcome", "rejected"); got != 2 {
		t.Fatalf("rejected %v events, want 2 (the bogus category and the internal type)", got)
	}
	kept, err := e.rejected.List(context.Background(), rejected.Filter{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, r := range kept {
		if r.Stage != rejected.StagePipeline {
			t.Fatalf("rejection at stage %q, want %q", r.Stage, rejected.StagePipeline)
		}
		for _, fe := range r.Errors {
			reasons = append(reasons, fe.Path+": "+fe.Reason)
		}
	}
	if all := strings.Join(reasons, "\n"); len(kept) != 2 || !strings.Contains(all, "totally.bogus.category") || !strings.Contains(all, "type") {
		t.Fatalf("kept rejections %d with errors:\n%s", len(kept), all)
	}
	for _, m := range e.poisoned() {
		if r := m.Headers().Get(middleware.ReasonForPoisonedKey); !strings.Contains(r, batchmsg.MetaMAC) {
			t.Fatalf("poison reason %q does not say the signature is missing or wrong", r)
		}
	}
	if got := e.metric("custody_pipeline_unsigned_batches_total"); got != 4 {
		t.Fatalf("unsigned batches metric %v, want 4", got)
	}
}

func TestPipeline_BatchThatKeepsFailingGoesToPoisonAfterRetries(t *testing.T) {
	e := newEnv(t)
	events := generate(300, 30, 6)
	app := &cursedLog{next: e.log, cursed: events[150].ID}
	for _, m := range batches(events, 100) {
		e.publish(m)
	}
	cfg := e.pipelineConfig()
	cfg.Retry.MaxRetries = 2
	e.start(app, cfg)
	e.waitCount(200, time.Minute)
	e.waitIdle(10 * time.Second)
	e.assertEachOnce(append(append([]*event.Event(nil), events[:100]...), events[200:]...))
	poisoned := e.poisoned()
	if len(poisoned) != 1 {
		t.Fatalf("%d poisoned messages, want 1", len(poisoned))
	}
	if r := poisoned[0].Headers().Get(middleware.ReasonForPoisonedKey); !strings.Contains(r, "storage rejects this batch (injected)") {
		t.Fatalf("reason %q", r)
	}
	if got := e.metric("custody_pipeline_batches_total", "result", "failed"); got != 3 {
		t.Fatalf("%v failed attempts, want 3 (1 + 2 retries)", got)
	}
}

// An outage longer than all of a batch's retries must not poison it: the
// batch goes back to the broker and is stored once storage returns.
func TestPipeline_OutageLongerThanTheRetriesPoisonsNothing(t *testing.T) {
	e := newEnv(t)
	events := generate(400, 40, 8)
	for _, m := range batches(events, 100) {
		e.publish(m)
	}
	app := &gatedLog{next: e.log}
	cfg := e.pipelineConfig()
	cfg.Retry = pipeline.Retry{MaxRetries: 1, InitialInterval: 10 * time.Millisecond, MaxInterval: 20 * time.Millisecond}
	e.start(app, cfg)
	// Every batch exhausts its retries at least twice while storage is down.
	waitFor(t, "retries exhausted repeatedly", 30*time.Second, func() bool { return app.failures.Load() >= 16 })
	if n := e.messagesOn(e.cfg.PoisonSubject); n != 0 {
		t.Fatalf("%d batches poisoned by an outage", n)
	}
	app.open.Store(true)
	e.waitCount(400, time.Minute)
	e.waitIdle(10 * time.Second)
	e.assertEachOnce(events)
	if n := e.messagesOn(e.cfg.PoisonSubject); n != 0 {
		t.Fatalf("%d batches poisoned by an outage", n)
	}
}

func TestPipeline_PanicInAppendIsRecoveredAndRetried(t *testing.T) {
	e := newEnv(t)
	events := generate(300, 30, 7)
	for _, m := range batches(events, 100) {
		e.publish(m)
	}
	app := &panickyLog{next: e.log}
	e.start(app, e.pipelineConfig())
	e.waitCount(300, time.Minute)
	e.waitIdle(10 * time.Second)
	e.assertEachOnce(events)
	if n := app.panics.Load(); n != 4 { // the panic, its retry, two more batches
		t.Fatalf("%d appends, want 4", n)
	}
	if n := e.messagesOn(e.cfg.PoisonSubject); n != 0 {
		t.Fatalf("%d poisoned messages", n)
	}
}

func TestSink_RepeatsInARequestAreDuplicatesAndStoredEventsSentAgainAreStoredOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	events := generate(150, 20, 8)
	if _, err := e.log.Append(ctx, events[:100]); err != nil {
		t.Fatal(err)
	}
	// The sink asks nothing of the log: the pipeline's append is the one
	// check of an id against it.
	sink := e.sink()
	req := append(append([]*event.Event(nil), events...), events[120])
	verdicts, err := sink.Accept(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range verdicts {
		want := ingest.Accepted
		if i == 150 {
			want = ingest.Duplicate
		}
		if v != want {
			t.Fatalf("verdict %d = %q, want %q", i, v, want)
		}
	}
	if n := e.messagesOn(e.cfg.Subject); n != 1 {
		t.Fatalf("%d messages published, want 1", n)
	}
	e.start(e.log, e.pipelineConfig())
	e.waitCount(150, time.Minute)
	e.waitIdle(10 * time.Second)
	if got := e.metric("custody_pipeline_events_total", "outcome", "duplicate"); got != 100 {
		t.Fatalf("the pipeline dropped %v events already stored, want 100", got)
	}
	e.assertEachOnce(events)
}

func TestSink_SplitsLargeRequestsByCountAndSize(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	events := generate(2_500, 300, 9)
	sink := e.sink()
	if _, err := sink.Accept(ctx, events[:2_400]); err != nil {
		t.Fatal(err)
	}
	if n := e.messagesOn(e.cfg.Subject); n != 3 { // 1000 + 1000 + 400
		t.Fatalf("%d messages for 2400 events, want 3", n)
	}
	sink.MaxMessageBytes = 8 << 10
	if _, err := sink.Accept(ctx, events[2_400:]); err != nil {
		t.Fatal(err)
	}
	small := e.messagesOn(e.cfg.Subject) - 3
	if small < 4 {
		t.Fatalf("100 events under an 8 KiB limit went in %d messages", small)
	}
	e.start(e.log, e.pipelineConfig())
	e.waitCount(2_500, time.Minute)
	e.waitIdle(10 * time.Second)
	if got := e.metric("custody_pipeline_batches_total", "result", "stored"); got != float64(3+small) {
		t.Fatalf("%v batches stored, want %d", got, 3+small)
	}

	sink.MaxMessageBytes = 100
	if _, err := sink.Accept(ctx, generate(1, 1, 10)); err == nil || !strings.Contains(err.Error(), "over the broker's message limit") {
		t.Fatalf("an event over the message limit: %v", err)
	}
}

func TestSink_FailsWhenTheBrokerDoesNotStore(t *testing.T) {
	e := newEnv(t)
	if err := e.js.DeleteStream(context.Background(), e.cfg.Stream); err != nil {
		t.Fatal(err)
	}
	sink := e.sink()
	if _, err := sink.Accept(context.Background(), generate(5, 1, 12)); err == nil {
		t.Fatal("accepted events the broker did not store")
	}
}

func TestConfig_Validate(t *testing.T) {
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	ok := pipeline.Config{Topic: "custody.events", Validation: event.Options{Vocabulary: tax}, Rejected: keepRejected{}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		mutate      func(*pipeline.Config)
	}{
		{"no topic", "pipeline.topic", func(c *pipeline.Config) { c.Topic = "" }},
		{"poison is topic", "pipeline.poison_topic", func(c *pipeline.Config) { c.PoisonTopic = c.Topic }},
		{"negative retries", "pipeline.retry.max_retries", func(c *pipeline.Config) { c.Retry.MaxRetries = -3 }},
		{"max below initial", "pipeline.retry.max_interval", func(c *pipeline.Config) {
			c.Retry.InitialInterval, c.Retry.MaxInterval = time.Second, time.Millisecond
		}},
		{"multiplier", "pipeline.retry.multiplier", func(c *pipeline.Config) { c.Retry.Multiplier = 0.5 }},
		{"jitter", "pipeline.retry.jitter", func(c *pipeline.Config) { c.Retry.Jitter = 1.5 }},
		{"handler timeout", "pipeline.handler_timeout", func(c *pipeline.Config) { c.HandlerTimeout = time.Millisecond }},
		{"close timeout", "pipeline.close_timeout", func(c *pipeline.Config) { c.CloseTimeout = time.Second }},
		{"coalesce max events", "pipeline.coalesce.max_events", func(c *pipeline.Config) { c.Coalesce.MaxEvents = -2 }},
		{"coalesce linger", "pipeline.coalesce.linger", func(c *pipeline.Config) { c.Coalesce.Linger = time.Hour }},
		{"no taxonomy to validate unsigned batches", "pipeline.validation", func(c *pipeline.Config) { c.Validation = event.Options{} }},
		{"nowhere to keep rejected events", "pipeline.rejected", func(c *pipeline.Config) { c.Rejected = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("got %v, want an error naming %s", err, tc.field)
			}
		})
	}
	// Defaults: 6 attempts of 60 s and backoffs of 0.2+0.4+0.8+1.6+3.2 s (+20% jitter).
	if got := ok.MaxHandlingTime(); got < 366*time.Second || got > 368*time.Second {
		t.Fatalf("max handling time %s", got)
	}
}

func TestPipeline_RunFailsWhenTheConsumerIsMissing(t *testing.T) {
	e := newEnv(t)
	if err := e.js.DeleteConsumer(context.Background(), e.cfg.Stream, e.cfg.Durable); err != nil {
		t.Fatal(err)
	}
	sub, err := broker.NewSubscriber(e.cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(e.pipelineConfig(), sub, e.pub, e.log, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Run(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("Run without a consumer: %v (context: %v)", err, ctx.Err())
	}
}

func TestPipeline_StopsCleanlyWhenCancelledRightAway(t *testing.T) {
	e := newEnv(t)
	e.publish(generate(10, 2, 13))
	sub, err := broker.NewSubscriber(e.cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(e.pipelineConfig(), sub, e.pub, e.log, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	// Whatever it did or did not do, a new pipeline stores the batch.
	e.start(e.log, e.pipelineConfig())
	e.waitCount(10, 30*time.Second)
}

// Health that tells the truth (issue 17): while every append fails for
// longer than UnwritableAfter the pipeline says the log cannot be written
// (readiness and HTTP ingest use it), and says it no more once an append
// succeeds again.
func TestPipeline_StorageWritableFollowsTheAppends(t *testing.T) {
	e := newEnv(t)
	app := &gatedLog{next: e.log}
	cfg := e.pipelineConfig()
	cfg.UnwritableAfter = 300 * time.Millisecond
	cfg.Retry = pipeline.Retry{MaxRetries: 100, InitialInterval: 20 * time.Millisecond, MaxInterval: 50 * time.Millisecond}
	p := e.start(app, cfg).p
	ctx := context.Background()
	if err := p.StorageWritable(ctx); err != nil {
		t.Fatalf("before any append: %v", err)
	}
	events := generate(50, 10, 41)
	e.publish(events)
	waitFor(t, "the log reported unwritable", 30*time.Second, func() bool {
		return errors.Is(p.StorageWritable(ctx), pipeline.ErrStorageUnwritable)
	})
	if err := p.StorageWritable(ctx); !strings.Contains(err.Error(), "injected") {
		t.Fatalf("the error does not carry the append's: %v", err)
	}
	app.open.Store(true)
	e.waitCount(50, time.Minute)
	waitFor(t, "writable again", 10*time.Second, func() bool { return p.StorageWritable(ctx) == nil })
}

// stuckLog fails, with an ordinary (retryable) error, every append that
// holds the cursed event; the others go to the log.
type stuckLog struct {
	next   *eventlog.Log
	cursed uuid.UUID
}

func (s *stuckLog) Append(ctx context.Context, events []*event.Event) ([]eventlog.Outcome, error) {
	for _, e := range events {
		if e.ID == s.cursed {
			return nil, errors.New("this batch keeps failing (injected)")
		}
	}
	return s.next.Append(ctx, events)
}

// Issue 17: "a message that can never be stored is retried forever". A
// batch whose appends fail while other batches are stored is moved to the
// poison topic after MaxDeliveries deliveries, with the reason; the rest
// are stored.
func TestPipeline_ABatchThatFailsWhileOthersAreStoredIsPoisonedAfterMaxDeliveries(t *testing.T) {
	e := newEnv(t)
	events := generate(300, 30, 51)
	app := &stuckLog{next: e.log, cursed: events[150].ID}
	cfg := e.pipelineConfig()
	cfg.MaxDeliveries = 3
	cfg.Retry = pipeline.Retry{MaxRetries: -1}
	for _, m := range batches(events, 100) {
		e.publish(m)
	}
	e.start(app, cfg)
	waitFor(t, "one poisoned batch", time.Minute, func() bool { return len(e.poisoned()) == 1 })
	e.waitCount(200, time.Minute)
	reason := e.poisoned()[0].Headers().Get(middleware.ReasonForPoisonedKey)
	if !strings.Contains(reason, "delivered 3 times") || !strings.Contains(reason, "keeps failing") {
		t.Fatalf("poison reason %q does not say why", reason)
	}
	if n := e.count(); n != 200 {
		t.Fatalf("%d events stored, want the 200 of the other batches", n)
	}
}
