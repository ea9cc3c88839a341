package kafka_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/kafka"
)

func TestEnsureTopic_CreatesBothTopicsWithTheirSettingsIdempotently(t *testing.T) {
	c := newCluster(t, kfake.NumBrokers(3))
	cfg := testConfig(c)
	cfg.Partitions, cfg.ReplicationFactor, cfg.Retention = 6, 3, 48*time.Hour
	// Every replica runs it at start, possibly at the same moment.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { ensure(t, cfg) })
	}
	wg.Wait()
	ensure(t, cfg)

	a := admin(t, c)
	meta, err := a.DescribeTopics([]string{cfg.Topic, cfg.PoisonTopic})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range meta {
		if !errors.Is(m.Err, sarama.ErrNoError) {
			t.Fatalf("topic %s: %v", m.Name, m.Err)
		}
		if len(m.Partitions) != 6 || len(m.Partitions[0].Replicas) != 3 {
			t.Errorf("topic %s: %d partitions of %d replicas, want 6 of 3", m.Name, len(m.Partitions), len(m.Partitions[0].Replicas))
		}
		entries, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: m.Name})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range entries {
			got[e.Name] = e.Value
		}
		want := map[string]string{
			"retention.ms":        fmt.Sprint((48 * time.Hour).Milliseconds()),
			"min.insync.replicas": "2",
			"max.message.bytes":   fmt.Sprint(kafka.DefaultMaxMessageBytes + 64<<10),
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("topic %s: %s = %q, want %q", m.Name, k, got[k], v)
			}
		}
	}
}

func TestEnsureTopic_LeavesAnExistingTopicAsItIs(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(3, kafka.DefaultTopic))
	cfg := testConfig(c)
	cfg.Partitions = 6
	ensure(t, cfg)
	meta, err := admin(t, c).DescribeTopics([]string{cfg.Topic, cfg.PoisonTopic})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, m := range meta {
		got[m.Name] = len(m.Partitions)
	}
	if got[cfg.Topic] != 3 || got[cfg.PoisonTopic] != 6 {
		t.Errorf("partitions %v: want the existing topic's 3 kept and the missing poison topic made with 6", got)
	}
}

func TestEnsureTopic_ReplicationAboveTheBrokerCountFails(t *testing.T) {
	c := newCluster(t, kfake.NumBrokers(1))
	cfg := testConfig(c)
	cfg.ReplicationFactor = 3
	err := kafka.EnsureTopic(t.Context(), cfg, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "replication factor 3") {
		t.Fatalf("EnsureTopic = %v, want an error naming the replication factor", err)
	}
}

func TestPubSub_RoundTripKeepsPayloadMetadataAndUUID(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	var sent []*message.Message
	for i := range 20 {
		m := message.NewMessage(fmt.Sprintf("uuid-%02d", i), []byte(fmt.Sprintf("payload %d", i)))
		m.Metadata.Set("custody-source", "test")
		m.Metadata.Set("n", fmt.Sprint(i))
		sent = append(sent, m)
	}
	if err := pub.Publish(cfg.Topic, sent...); err != nil {
		t.Fatalf("publish: %v", err)
	}
	mb := join(t, cfg)
	got := map[string]*message.Message{}
	for range sent {
		m := mb.next(t, 30*time.Second)
		got[m.UUID] = m
		m.Ack()
	}
	for _, s := range sent {
		g := got[s.UUID]
		if g == nil {
			t.Errorf("message %s not received", s.UUID)
			continue
		}
		if string(g.Payload) != string(s.Payload) || g.Metadata.Get("n") != s.Metadata.Get("n") || g.Metadata.Get("custody-source") != "test" {
			t.Errorf("message %s came back as %q %v", s.UUID, g.Payload, g.Metadata)
		}
	}
}

// A message handed to a member that never acks it (it crashed, or was
// stopped mid-batch) is delivered again to the next member of the group;
// once acked it is not, because only acked offsets are committed.
func TestSubscriber_OffsetsAreCommittedOnlyForAckedMessages(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	cfg.Partitions = 1 // one partition: the order of delivery is the order of publishing
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	if err := pub.Publish(cfg.Topic, message.NewMessage("first", []byte("1"))); err != nil {
		t.Fatal(err)
	}

	a := join(t, cfg)
	if m := a.next(t, 30*time.Second); m.UUID != "first" {
		t.Fatalf("got %s, want first", m.UUID)
	}
	a.leave() // never acked

	b := join(t, cfg)
	m := b.next(t, 30*time.Second)
	if m.UUID != "first" {
		t.Fatalf("after a member left without acking, the next one got %s, want first again", m.UUID)
	}
	m.Ack()
	waitFor(t, 10*time.Second, "offset 1 committed", func() bool { return committed(t, c, cfg)[0] == 1 })
	b.leave()

	if err := pub.Publish(cfg.Topic, message.NewMessage("second", []byte("2"))); err != nil {
		t.Fatal(err)
	}
	cm := join(t, cfg)
	if m := cm.next(t, 30*time.Second); m.UUID != "second" {
		t.Fatalf("after first was acked, the next member got %s, want second", m.UUID)
	}
}

func TestSubscriber_NackedMessageIsHandedOverAgainInOrder(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	cfg.Partitions = 1
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	if err := pub.Publish(cfg.Topic, message.NewMessage("a", nil), message.NewMessage("b", nil)); err != nil {
		t.Fatal(err)
	}
	mb := join(t, cfg)
	first := mb.next(t, 30*time.Second)
	if first.UUID != "a" {
		t.Fatalf("got %s first, want a", first.UUID)
	}
	first.Nack()
	again := mb.next(t, 30*time.Second)
	if again.UUID != "a" {
		t.Fatalf("after a nack got %s, want a again (b must wait behind it)", again.UUID)
	}
	again.Ack()
	if m := mb.next(t, 30*time.Second); m.UUID != "b" {
		t.Fatalf("got %s, want b", m.UUID)
	}
}

func TestSubscriber_BoundsMessagesInFlight(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	cfg.Partitions, cfg.MaxInFlight = 4, 2
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	var msgs []*message.Message
	for p := range 4 { // one message per partition: all four could be delivered at once
		m := message.NewMessage(fmt.Sprint(p), nil)
		m.Metadata.Set(broker.MetaPartitionKey, fmt.Sprint(p))
		msgs = append(msgs, m)
	}
	if err := pub.Publish(cfg.Topic, msgs...); err != nil {
		t.Fatal(err)
	}
	mb := join(t, cfg)
	held := []*message.Message{mb.next(t, 30*time.Second), mb.next(t, 30*time.Second)}
	mb.none(t, 500*time.Millisecond)
	held[0].Ack()
	third := mb.next(t, 10*time.Second)
	mb.none(t, 300*time.Millisecond)
	held[1].Nack() // a nack frees its slot too
	for _, m := range []*message.Message{third, mb.next(t, 10*time.Second)} {
		m.Ack()
	}
}

func TestSubscriber_RefusesAnotherTopic(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	sub, err := kafka.NewSubscriber(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Subscribe(t.Context(), cfg.PoisonTopic); !errors.Is(err, kafka.ErrUnknownTopic) {
		t.Fatalf("Subscribe(poison topic) = %v, want ErrUnknownTopic", err)
	}
}

// A message with a partition key lands on partition key mod the partition
// count, whatever the count, and carries the key as its Kafka key.
func TestPublisher_PartitionKeyChoosesThePartition(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	cfg.Partitions = 3
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	var msgs []*message.Message
	for k := range 9 {
		m := message.NewMessage(fmt.Sprint(k), nil)
		m.Metadata.Set(broker.MetaPartitionKey, fmt.Sprint(k))
		msgs = append(msgs, m)
	}
	if err := pub.Publish(cfg.Topic, msgs...); err != nil {
		t.Fatal(err)
	}
	mb := join(t, cfg)
	for range msgs {
		m := mb.next(t, 30*time.Second)
		var k int
		fmt.Sscan(m.UUID, &k)
		if p, _ := wmkafka.MessagePartitionFromCtx(m.Context()); p != int32(k%3) {
			t.Errorf("key %d on partition %d, want %d", k, p, k%3)
		}
		if key, _ := wmkafka.MessageKeyFromCtx(m.Context()); string(key) != m.UUID {
			t.Errorf("Kafka key %q, want the partition key %q", key, m.UUID)
		}
		m.Ack()
	}
}

func TestPublisher_AMessageOverTheLimitFailsWithoutRetrying(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	big := message.NewMessage("big", make([]byte, cfg.MaxMessageBytes+128<<10))
	start := time.Now()
	err := pub.Publish(cfg.Topic, big)
	if err == nil || errors.Is(err, kafka.ErrPublishTimeout) {
		t.Fatalf("publish of an oversized message = %v, want an immediate size error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("the size error took %s", time.Since(start))
	}
}

func TestPublisher_UnansweredPublishTimesOut(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	cfg.PublishTimeout = 300 * time.Millisecond
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	// The brokers swallow produce requests until the test ends.
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	defer close(release)
	err := pub.Publish(cfg.Topic, message.NewMessage("stuck", []byte("x")))
	if !errors.Is(err, kafka.ErrPublishTimeout) {
		t.Fatalf("publish = %v, want ErrPublishTimeout", err)
	}
}

func TestPublisher_PublishAfterCloseFails(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	pub, err := kafka.NewPublisher(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(cfg.Topic, message.NewMessage("x", nil)); !errors.Is(err, kafka.ErrClosed) {
		t.Fatalf("publish after close = %v, want ErrClosed", err)
	}
}
