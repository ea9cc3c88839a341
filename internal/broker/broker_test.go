package broker

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

// startEmbedded starts a server on dir and shuts it down when the test ends.
func startEmbedded(t *testing.T, dir string) *Embedded {
	t.Helper()
	e, err := StartEmbedded(context.Background(), EmbeddedConfig{Dir: dir}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	return e
}

func testConfig(e *Embedded) Config {
	return Config{InProcess: e.Config().InProcess, AckWait: 5 * time.Second, NakDelay: 50 * time.Millisecond}
}

func ensure(t *testing.T, cfg Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := EnsureStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}

func jsContext(t *testing.T, e *Embedded) jetstream.JetStream {
	t.Helper()
	nc, err := e.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func newPublisher(t *testing.T, cfg Config) message.Publisher {
	t.Helper()
	pub, err := NewPublisher(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	return pub
}

// subscribe returns the subscriber's channel for cfg.Subject; the
// subscription ends with the test.
func subscribe(t *testing.T, cfg Config) (<-chan *message.Message, message.Subscriber) {
	t.Helper()
	sub, err := NewSubscriber(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); _ = sub.Close() })
	ch, err := sub.Subscribe(ctx, cfg.WithDefaults().Subject)
	if err != nil {
		t.Fatal(err)
	}
	return ch, sub
}

func receive(t *testing.T, ch <-chan *message.Message, within time.Duration) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return m
	case <-time.After(within):
		t.Fatalf("no message within %s", within)
	}
	return nil
}

// waitAcked waits until the pipeline's consumer has no message awaiting an
// ack.
func waitAcked(t *testing.T, e *Embedded) {
	t.Helper()
	js := jsContext(t, e)
	c, err := js.Consumer(context.Background(), DefaultStream, DefaultDurable)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages still unacknowledged: %+v", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEmbedded_StartsOnTempDirAndEnsureStreamIsIdempotent(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e)
	ensure(t, cfg)
	ensure(t, cfg) // second time: no error, nothing changes

	js := jsContext(t, e)
	ctx := context.Background()
	s, err := js.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	sc := s.CachedInfo().Config
	if sc.Storage != jetstream.FileStorage || sc.Replicas != 1 || sc.MaxAge != DefaultMaxAge || sc.Duplicates != DefaultDuplicateWindow {
		t.Fatalf("stream config: %+v", sc)
	}
	if strings.Join(sc.Subjects, ",") != "custody.events,custody.events.poison" {
		t.Fatalf("subjects %v", sc.Subjects)
	}
	c, err := s.Consumer(ctx, DefaultDurable)
	if err != nil {
		t.Fatal(err)
	}
	cc := c.CachedInfo().Config
	if cc.AckPolicy != jetstream.AckExplicitPolicy || cc.AckWait != 5*time.Second || cc.MaxDeliver != -1 ||
		cc.DeliverSubject != "" || cc.FilterSubject != DefaultSubject || cc.MaxAckPending != DefaultMaxAckPending {
		t.Fatalf("consumer config: %+v", cc)
	}
	names := s.ConsumerNames(ctx)
	n := 0
	for range names.Name() {
		n++
	}
	if n != 1 {
		t.Fatalf("%d consumers after ensuring twice, want 1", n)
	}

	// A changed setting is applied to the existing stream and consumer.
	cfg.MaxAge = time.Hour
	cfg.AckWait = 7 * time.Second
	ensure(t, cfg)
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxAge != time.Hour || ci.Config.AckWait != 7*time.Second {
		t.Fatalf("update not applied: max_age %s, ack_wait %s", info.Config.MaxAge, ci.Config.AckWait)
	}
}

func TestPublish_MessageSurvivesServerRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := StartEmbedded(context.Background(), EmbeddedConfig{Dir: dir}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(first)
	ensure(t, cfg)
	pub, err := NewPublisher(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	msg := message.NewMessage("4a1e1d52-7d1e-4c3a-9a55-3f4f2b1d9e10", []byte("durable payload"))
	msg.Metadata.Set("custody-format", "events-ndjson/v1")
	if err := pub.Publish(cfg.WithDefaults().Subject, msg); err != nil {
		t.Fatal(err)
	}
	// Publish returned: the server has stored it. Stop everything.
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	first.Shutdown()

	second := startEmbedded(t, dir)
	cfg.InProcess = second.Config().InProcess
	ch, _ := subscribe(t, cfg)
	got := receive(t, ch, 10*time.Second)
	got.Ack()
	waitAcked(t, second)
	if got.UUID != msg.UUID || string(got.Payload) != "durable payload" || got.Metadata.Get("custody-format") != "events-ndjson/v1" {
		t.Fatalf("got %s %q %v", got.UUID, got.Payload, got.Metadata)
	}
}

func TestSubscriber_AcksOnlyWhatTheHandlerAcked(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e)
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	subject := cfg.WithDefaults().Subject
	if err := pub.Publish(subject, message.NewMessage("11111111-1111-4111-8111-111111111111", []byte("x"))); err != nil {
		t.Fatal(err)
	}
	ch, sub := subscribe(t, cfg)

	first := receive(t, ch, 5*time.Second)
	first.Nack()
	again := receive(t, ch, 5*time.Second) // redelivered after NakDelay
	if again.UUID != first.UUID {
		t.Fatalf("redelivered %s, want %s", again.UUID, first.UUID)
	}
	again.Ack()

	js := jsContext(t, e)
	c, err := js.Consumer(context.Background(), DefaultStream, DefaultDurable)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.AckFloor.Stream == 1 {
			if info.NumRedelivered != 0 || info.Delivered.Consumer != 2 {
				t.Fatalf("delivered %d times, redelivered %d", info.Delivered.Consumer, info.NumRedelivered)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ack not recorded: %+v", info)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Closing the subscriber keeps the durable consumer (and its position).
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Consumer(context.Background(), DefaultStream, DefaultDurable); err != nil {
		t.Fatalf("consumer gone after the subscriber closed: %v", err)
	}
}

func TestPublish_MetadataBecomeSafeHeaders(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e)
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	msg := message.NewMessage("22222222-2222-4222-8222-222222222222", []byte("x"))
	msg.Metadata.Set("reason_poisoned", "panic: boom\ngoroutine 1:\r\n\tmain.go:1")
	msg.Metadata.Set("big", strings.Repeat("a", 10_000))
	if err := pub.Publish(cfg.WithDefaults().Subject, msg); err != nil {
		t.Fatal(err)
	}
	ch, _ := subscribe(t, cfg)
	got := receive(t, ch, 5*time.Second)
	got.Ack()
	waitAcked(t, e)
	if r := got.Metadata.Get("reason_poisoned"); r != "panic: boom | goroutine 1: | \tmain.go:1" {
		t.Fatalf("reason %q", r)
	}
	if n := len(got.Metadata.Get("big")); n > maxHeaderValue+4 {
		t.Fatalf("big header kept %d bytes", n)
	}
}

func TestSubscriber_ForeignMessageWithRepeatedHeadersIsDelivered(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e)
	ensure(t, cfg)
	nc, err := e.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(DefaultSubject)
	m.Data = []byte("not ours")
	m.Header.Add("X-Tag", "a")
	m.Header.Add("X-Tag", "b")
	if _, err := js.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	ch, _ := subscribe(t, cfg)
	got := receive(t, ch, 5*time.Second)
	got.Ack()
	waitAcked(t, e)
	if got.Metadata.Get("X-Tag") != "a,b" || string(got.Payload) != "not ours" {
		t.Fatalf("got %v %q", got.Metadata, got.Payload)
	}
}

func TestPublish_FailsWithoutStream(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e)
	cfg.PublishTimeout = time.Second
	pub := newPublisher(t, cfg) // no EnsureStream
	err := pub.Publish(DefaultSubject, message.NewMessage("33333333-3333-4333-8333-333333333333", []byte("x")))
	if err == nil {
		t.Fatal("publish without a stream succeeded")
	}
}

func TestConfig_Validate(t *testing.T) {
	ok := Config{URLs: []string{"nats://127.0.0.1:4222"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		name, field string
		mutate      func(*Config)
	}{
		{"no urls", "broker.urls", func(c *Config) { c.URLs = nil }},
		{"bad scheme", "broker.urls", func(c *Config) { c.URLs = []string{"http://x:4222"} }},
		{"no host", "broker.urls", func(c *Config) { c.URLs = []string{"nats://"} }},
		{"creds and nkey", "broker.nkey_file", func(c *Config) { c.CredsFile, c.NKeyFile = "a.creds", "b.nk" }},
		{"cert without key", "broker.cert_file", func(c *Config) { c.TLS.CertFile = "c.pem" }},
		{"stream with dot", "broker.stream", func(c *Config) { c.Stream = "a.b" }},
		{"durable with space", "broker.durable", func(c *Config) { c.Durable = "a b" }},
		{"durable wildcard", "broker.durable", func(c *Config) { c.Durable = "d*" }},
		{"wildcard subject", "broker.subject", func(c *Config) { c.Subject = "custody.>" }},
		{"empty token", "broker.subject", func(c *Config) { c.Subject = "custody..events" }},
		{"poison equals subject", "broker.poison_subject", func(c *Config) { c.PoisonSubject = DefaultSubject }},
		{"replicas", "broker.replicas", func(c *Config) { c.Replicas = 7 }},
		{"max age", "broker.max_age", func(c *Config) { c.MaxAge = time.Second }},
		{"duplicate window over max age", "broker.duplicate_window", func(c *Config) { c.MaxAge, c.DuplicateWindow = time.Hour, 2*time.Hour }},
		{"ack wait", "broker.ack_wait", func(c *Config) { c.AckWait = 10 * time.Millisecond }},
		{"max deliver", "broker.max_deliver", func(c *Config) { c.MaxDeliver = -5 }},
		{"max ack pending", "broker.max_ack_pending", func(c *Config) { c.MaxAckPending = -1 }},
		{"in-flight bytes below the largest message", "broker.max_in_flight_bytes", func(c *Config) { c.MaxInFlightBytes = 1 << 20 }},
		{"nak delay", "broker.nak_delay", func(c *Config) { c.NakDelay = -time.Second }},
		{"publish timeout", "broker.publish_timeout", func(c *Config) { c.PublishTimeout = time.Millisecond }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("got %v, want an error naming %s", err, tc.field)
			}
		})
	}
	// Every problem is reported, not just the first.
	err := Config{Replicas: 9, AckWait: time.Millisecond}.Validate()
	for _, f := range []string{"broker.urls", "broker.replicas", "broker.ack_wait"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Fatalf("%v does not name %s", err, f)
		}
	}
}

func TestEmbeddedConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		cfg         EmbeddedConfig
	}{
		{"no dir", "broker.embedded.dir", EmbeddedConfig{}},
		{"server name", "broker.embedded.server_name", EmbeddedConfig{Dir: "d", ServerName: "a b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got %v, want an error naming %s", err, tc.field)
			}
		})
	}
	if err := (EmbeddedConfig{Dir: "d"}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriber_FailsClearlyWithoutConsumerAndClosesAtOnce(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e) // no EnsureStream
	sub, err := NewSubscriber(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Subscribe(context.Background(), DefaultSubject); err == nil || !strings.Contains(err.Error(), "EnsureStream") {
		t.Fatalf("subscribe without a consumer: %v", err)
	}
	start := time.Now()
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("close took %s", took)
	}

	ensure(t, cfg)
	sub2, err := NewSubscriber(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	if _, err := sub2.Subscribe(context.Background(), "other.subject"); err == nil {
		t.Fatal("subscribed to a subject the consumer does not read")
	}
}

// An older version made the pipeline's consumer a push consumer, which
// JetStream cannot turn into a pull one. EnsureStream replaces it by a pull
// consumer that starts after the old one's acknowledgement floor: what it
// had acknowledged is not delivered again, what it had not is.
func TestEnsureStream_ReplacesAnOlderPushConsumerWithoutSkippingUnacked(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e).WithDefaults()
	ctx := context.Background()
	js := jsContext(t, e)
	if _, err := js.CreateOrUpdateStream(ctx, streamConfig(cfg)); err != nil {
		t.Fatal(err)
	}
	old := consumerConfig(cfg)
	old.DeliverSubject, old.DeliverGroup = "_CUSTODY.deliver.old", "custody-ingest"
	if _, err := js.CreateOrUpdatePushConsumer(ctx, cfg.Stream, old); err != nil {
		t.Fatal(err)
	}
	pub := newPublisher(t, cfg)
	ids := []string{
		"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
		"33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444",
	}
	for _, id := range ids {
		if err := pub.Publish(cfg.Subject, message.NewMessage(id, []byte(id))); err != nil {
			t.Fatal(err)
		}
	}
	// The old version acknowledged the first two.
	nc, err := e.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.QueueSubscribeSync(old.DeliverSubject, old.DeliverGroup)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.AckSync(); err != nil {
			t.Fatal(err)
		}
	}
	_ = sub.Unsubscribe()

	ensure(t, cfg)
	ensure(t, cfg) // and again: the start position is kept, nothing fails
	c, err := js.Consumer(ctx, cfg.Stream, cfg.Durable)
	if err != nil {
		t.Fatalf("no pull consumer after EnsureStream: %v", err)
	}
	if cc := c.CachedInfo().Config; cc.DeliverSubject != "" || cc.OptStartSeq != 3 {
		t.Fatalf("consumer config after the replacement: %+v", cc)
	}
	ch, _ := subscribe(t, cfg)
	for _, want := range ids[2:] {
		m := receive(t, ch, 5*time.Second)
		if m.UUID != want {
			t.Fatalf("delivered %s, want %s", m.UUID, want)
		}
		m.Ack()
	}
	select {
	case m := <-ch:
		t.Fatalf("delivered %s, which the old consumer had acknowledged or was already delivered", m.UUID)
	case <-time.After(300 * time.Millisecond):
	}
}

// The subscriber hands on messages without waiting for earlier ones to be
// acknowledged: with many small messages in the stream, all of them are in
// the pipeline's hands at once, up to MaxAckPending.
func TestSubscriber_HandsOnManyMessagesBeforeAnyIsAcked(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e)
	cfg.MaxAckPending = 300
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	for i := range 500 {
		if err := pub.Publish(cfg.WithDefaults().Subject, message.NewMessage(strconv.Itoa(i), []byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	ch, _ := subscribe(t, cfg)
	var held []*message.Message
	for range 300 {
		held = append(held, receive(t, ch, 5*time.Second))
	}
	select {
	case m := <-ch:
		t.Fatalf("message %s delivered past max_ack_pending", m.UUID)
	case <-time.After(300 * time.Millisecond):
	}
	for _, m := range held {
		m.Ack()
	}
	for range 200 {
		receive(t, ch, 5*time.Second).Ack()
	}
	waitAcked(t, e)
}

// Large messages are bounded by bytes, not only by count: a backlog of
// them is not pulled into the pipeline's memory at once.
func TestSubscriber_HoldsNoMoreThanMaxInFlightBytes(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e)
	cfg.MaxInFlightBytes = 8 << 20
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	payload := make([]byte, 1<<20)
	for i := range 20 {
		if err := pub.Publish(cfg.WithDefaults().Subject, message.NewMessage(strconv.Itoa(i), payload)); err != nil {
			t.Fatal(err)
		}
	}
	ch, _ := subscribe(t, cfg)
	var held []*message.Message
	for range 8 {
		held = append(held, receive(t, ch, 5*time.Second))
	}
	select {
	case m := <-ch:
		t.Fatalf("message %s handed on with 8 MiB already held", m.UUID)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Ack()
	held = append(held[1:], receive(t, ch, 5*time.Second)) // room for one more
	for _, m := range held {
		m.Ack()
	}
	for range 11 {
		receive(t, ch, 5*time.Second).Ack()
	}
	waitAcked(t, e)
}

// listeningSockets returns the inodes of the TCP sockets this process
// listens on (from /proc/net/tcp and tcp6, state 0A, matched to the
// process's open files).
func listeningSockets(t *testing.T) map[string]bool {
	t.Helper()
	mine := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err == nil && strings.HasPrefix(target, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	out := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 9 && f[3] == "0A" && mine[f[9]] {
				out[f[9]] = true
			}
		}
	}
	return out
}

// The embedded server is reachable only from this process: it opens no
// listening socket, so no other local process can read the stream or
// publish into it around HTTP ingest (issue 17: an HPUB to custody.events
// on its loopback port was stored and served).
func TestEmbedded_OpensNoListeningSocket(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc")
	}
	before := listeningSockets(t)
	e := startEmbedded(t, t.TempDir())
	ensure(t, testConfig(e))
	pub := newPublisher(t, testConfig(e))
	if err := pub.Publish(DefaultSubject, message.NewMessage("1", []byte("x"))); err != nil {
		t.Fatal(err)
	}
	for inode := range listeningSockets(t) {
		if !before[inode] {
			t.Fatalf("the embedded server listens on a TCP socket (inode %s)", inode)
		}
	}
	if addr := e.srv.Addr(); addr != nil {
		t.Fatalf("the embedded server has a listener on %s", addr)
	}
	// Its clients still work, in-process.
	ch, _ := subscribe(t, testConfig(e))
	receive(t, ch, 5*time.Second).Ack()
}

// No client may delete or purge the stream's messages: what ingest
// acknowledged stays until it is stored.
func TestStream_RefusesDeletesAndPurgesFromClients(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e)
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	if err := pub.Publish(DefaultSubject, message.NewMessage("1", []byte("x"))); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := jsContext(t, e).Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMsg(ctx, 1); err == nil {
		t.Fatal("a client deleted a message")
	}
	if err := s.Purge(ctx); err == nil {
		t.Fatal("a client purged the stream")
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("%d messages left, want 1", info.State.Msgs)
	}
}

// The monitor behind /readyz: the stream takes messages while it exists,
// and the pipeline's backlog is counted and aged, recovering by itself
// once the pipeline has stored what waited.
func TestMonitor_SaysWhenTheBrokerCannotTakeMessagesAndHowOldTheBacklogIs(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	cfg := testConfig(e)
	ensure(t, cfg)
	m, err := NewMonitor(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.Writable(ctx); err != nil {
		t.Fatalf("a fresh stream is not writable: %v", err)
	}
	if b, err := m.Backlog(ctx); err != nil || b.Messages != 0 || b.Oldest != 0 {
		t.Fatalf("empty backlog %+v, %v", b, err)
	}
	pub := newPublisher(t, cfg)
	for i := range 3 {
		if err := pub.Publish(DefaultSubject, message.NewMessage(strconv.Itoa(i), []byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	b, err := m.Backlog(ctx)
	if err != nil || b.Messages != 3 || b.Oldest < time.Second {
		t.Fatalf("backlog %+v, %v; want 3 messages, the oldest over 1s", b, err)
	}
	if err := m.NotLagging(ctx, 500*time.Millisecond); !errors.Is(err, ErrLagging) {
		t.Fatalf("NotLagging = %v, want ErrLagging", err)
	}
	if err := m.NotLagging(ctx, time.Hour); err != nil {
		t.Fatalf("within an hour's bound: %v", err)
	}
	ch, _ := subscribe(t, cfg)
	for range 3 {
		receive(t, ch, 5*time.Second).Ack()
	}
	waitAcked(t, e)
	if err := m.NotLagging(ctx, 500*time.Millisecond); err != nil {
		t.Fatalf("after the backlog was stored: %v", err)
	}
	// A stream that is gone takes nothing.
	if err := jsContext(t, e).DeleteStream(ctx, DefaultStream); err != nil {
		t.Fatal(err)
	}
	if err := m.Writable(ctx); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Writable without the stream = %v, want ErrNotWritable", err)
	}
	ensure(t, cfg)
	if err := m.Writable(ctx); err != nil {
		t.Fatalf("not writable again after the stream is back: %v", err)
	}
}

// Issue 17: after a store write error JetStream switched itself off and
// every ingest request failed, even after the fault was gone, while
// /readyz said ready. Now the monitor says the broker cannot take
// messages while JetStream is off, and the embedded server turns it back
// on by itself, with the stream, the consumer's position and the messages
// it held intact.
func TestEmbedded_JetStreamSwitchedOffComesBackWithNothingLost(t *testing.T) {
	dir := t.TempDir()
	e, err := StartEmbedded(context.Background(), EmbeddedConfig{Dir: dir, Recheck: time.Second}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	cfg := testConfig(e)
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	for i := range 5 {
		if err := pub.Publish(DefaultSubject, message.NewMessage(strconv.Itoa(i), []byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	m, err := NewMonitor(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()

	// What the server does on a storage write error.
	if err := e.srv.DisableJetStream(); err != nil {
		t.Fatal(err)
	}
	if err := m.Writable(ctx); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Writable with JetStream off = %v, want ErrNotWritable", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for m.Writable(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("JetStream not back on within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := pub.Publish(DefaultSubject, message.NewMessage("5", []byte("x"))); err != nil {
		t.Fatalf("publish after JetStream came back: %v", err)
	}
	ch, _ := subscribe(t, cfg)
	seen := map[string]bool{}
	for range 6 {
		msg := receive(t, ch, 10*time.Second)
		seen[msg.UUID] = true
		msg.Ack()
	}
	if len(seen) != 6 {
		t.Fatalf("delivered %d distinct messages after the restart of JetStream, want 6", len(seen))
	}
}
