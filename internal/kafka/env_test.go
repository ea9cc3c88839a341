package kafka_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/custodyhq/custody/internal/kafka"
)

// The broker of these tests is kfake, an in-memory cluster in this process
// that speaks the Kafka wire protocol (produce, fetch, consumer groups,
// offsets, idempotent producers, SASL, TLS): no Kafka server can be
// installed where they run, and being in-process it is always there, in CI
// too. It is not Apache Kafka: see doc.go for what that means.

// newCluster starts a kfake cluster, closed when the test ends.
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// testConfig is a configuration for c: few partitions, quick redelivery.
func testConfig(c *kfake.Cluster) kafka.Config {
	return kafka.Config{
		Brokers:        c.ListenAddrs(),
		Partitions:     4,
		NackDelay:      50 * time.Millisecond,
		PublishTimeout: 10 * time.Second,
	}.WithDefaults()
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

// ensure runs EnsureTopic for cfg.
func ensure(t testing.TB, cfg kafka.Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopic(ctx, cfg, testLogger(t)); err != nil {
		t.Fatalf("ensure topic: %v", err)
	}
}

func newPublisher(t testing.TB, cfg kafka.Config) *kafka.Publisher {
	t.Helper()
	pub, err := kafka.NewPublisher(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("publisher: %v", err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	return pub
}

// member is one subscriber of the consumer group, subscribed to the topic.
type member struct {
	sub  message.Subscriber
	msgs <-chan *message.Message
	once sync.Once
}

func join(t testing.TB, cfg kafka.Config) *member {
	t.Helper()
	sub, err := kafka.NewSubscriber(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("subscriber: %v", err)
	}
	msgs, err := sub.Subscribe(context.Background(), cfg.Topic)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	m := &member{sub: sub, msgs: msgs}
	t.Cleanup(m.leave)
	return m
}

// leave closes the subscriber (at most once).
func (m *member) leave() { m.once.Do(func() { _ = m.sub.Close() }) }

// next returns the next message, failing the test after d.
func (m *member) next(t testing.TB, d time.Duration) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-m.msgs:
		if !ok {
			t.Fatal("subscription closed")
		}
		return msg
	case <-time.After(d):
		t.Fatalf("no message within %s", d)
		return nil
	}
}

// none asserts that no message arrives within d (a negative can only be
// observed for a while).
func (m *member) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case msg := <-m.msgs:
		t.Fatalf("unexpected message %s", msg.UUID)
	case <-time.After(d):
	}
}

// admin is a sarama cluster admin on c, to look at topics and offsets.
func admin(t testing.TB, c *kfake.Cluster) sarama.ClusterAdmin {
	t.Helper()
	sc := sarama.NewConfig()
	sc.Version = sarama.V2_3_0_0
	a, err := sarama.NewClusterAdmin(c.ListenAddrs(), sc)
	if err != nil {
		t.Fatalf("admin: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// committed returns the consumer group's committed offset per partition.
func committed(t testing.TB, c *kfake.Cluster, cfg kafka.Config) map[int32]int64 {
	t.Helper()
	resp, err := admin(t, c).ListConsumerGroupOffsets(cfg.ConsumerGroup, nil)
	if err != nil {
		t.Fatalf("list offsets: %v", err)
	}
	out := map[int32]int64{}
	for p, b := range resp.Blocks[cfg.Topic] {
		out[p] = b.Offset
	}
	return out
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
