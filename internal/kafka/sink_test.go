package kafka_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/batchmsg"
	"github.com/custodyhq/custody/internal/broker"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/kafka"
)

// testSigner signs as a node with hasher's identifier key does.
func testSigner(t testing.TB, hasher *identity.Hasher) *batchmsg.Signer {
	t.Helper()
	s, err := batchmsg.NewSigner(hasher.DeriveKey(batchmsg.SignerPurpose))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newHasher(t testing.TB) *identity.Hasher {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	h, err := identity.NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const tenant = "acme"

// collected returns a valid data.collected event about person (an e-mail
// address and a user id), the seq-th of that person, with a value of
// valueBytes bytes.
func collected(person, seq, valueBytes int) *event.Event {
	email := fmt.Sprintf("user%04d@example.org", person)
	value, _ := json.Marshal(email + strings.Repeat("x", valueBytes))
	return &event.Event{
		ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeCollected,
		Source: "signup-service", Tenant: tenant,
		Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Minute),
		Subject: event.Subject{Identifiers: []event.Identifier{
			{Kind: identity.Email, Value: email},
			{Kind: identity.UserID, Value: fmt.Sprintf("U%04d", person)},
		}},
		Data: &event.Collected{
			Elements: []event.Element{{Name: "email", Category: "contact.email", Value: value}},
			Origin:   event.Origin{Kind: "consumer", Name: "signup form"},
			Purposes: []string{"account_management"},
			System:   "accounts-db",
		},
	}
}

// The Sink in front of Kafka sends every event of a subject to one
// partition, in the order they were accepted, one message per partition
// key and request; neither keys nor headers carry an identifier.
func TestSink_KeepsEachSubjectOnOnePartitionInOrder(t *testing.T) {
	const people, requests, perRequest = 40, 5, 80
	c := newCluster(t)
	cfg := testConfig(c)
	cfg.Partitions = 6
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	hasher := newHasher(t)
	sink, err := kafka.NewSink(pub, cfg, hasher, testSigner(t, hasher))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kafka.NewSubjectKeys(hasher, cfg.Partitions)
	if err != nil {
		t.Fatal(err)
	}

	seq := map[int]int{}            // person → events sent
	keyOf := map[uuid.UUID]string{} // event → its partition key
	personOf := map[uuid.UUID]int{} // event → person
	seqOf := map[uuid.UUID]int{}    // event → its number among the person's
	for r := range requests {
		var batch []*event.Event
		for i := range perRequest {
			p := (r*perRequest + i*7) % people
			e := collected(p, seq[p], 0)
			seq[p]++
			k, err := keys.Key(e)
			if err != nil {
				t.Fatal(err)
			}
			keyOf[e.ID], personOf[e.ID], seqOf[e.ID] = k, p, seq[p]-1
			batch = append(batch, e)
		}
		verdicts, err := sink.Accept(t.Context(), batch)
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		for i, v := range verdicts {
			if v != ingest.Accepted {
				t.Fatalf("event %d: %s", i, v)
			}
		}
	}

	mb := join(t, cfg)
	partitionOf := map[int]int32{} // person → partition seen
	next := map[int]int{}          // person → next expected seq
	received, messages := 0, 0
	usedKeys := map[string]bool{}
	for received < requests*perRequest {
		m := mb.next(t, 30*time.Second)
		messages++
		partition, _ := wmkafka.MessagePartitionFromCtx(m.Context())
		key, _ := wmkafka.MessageKeyFromCtx(m.Context())
		wire := string(key)
		for k, v := range m.Metadata {
			wire += "\n" + k + "=" + v
		}
		if strings.Contains(wire, "example.org") || strings.Contains(wire, "U00") {
			t.Fatalf("an identifier travels in a key or header:\n%s", wire)
		}
		events, err := batchmsg.Decode(m)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		mkey := m.Metadata.Get(broker.MetaPartitionKey)
		usedKeys[mkey] = true
		for _, e := range events {
			received++
			p := personOf[e.ID]
			if keyOf[e.ID] != mkey || string(key) != mkey {
				t.Fatalf("event of key %s in a message of key %s (Kafka key %q)", keyOf[e.ID], mkey, key)
			}
			if seen, ok := partitionOf[p]; ok && seen != partition {
				t.Fatalf("person %d's events on partitions %d and %d", p, seen, partition)
			}
			partitionOf[p] = partition
			if seqOf[e.ID] != next[p] {
				t.Fatalf("person %d: event %d arrived when %d was next", p, seqOf[e.ID], next[p])
			}
			next[p]++
		}
		m.Ack()
	}
	if messages > requests*cfg.Partitions {
		t.Errorf("%d messages for %d requests over %d partition keys: more than one per key and request", messages, requests, cfg.Partitions)
	}
	if len(usedKeys) < 2 {
		t.Errorf("all subjects got the same partition key %v", usedKeys)
	}
	t.Logf("%d events of %d people in %d requests came as %d messages on %d partition keys", received, people, requests, messages, len(usedKeys))
}

// A batch larger than a Kafka message is split, within the topic's
// max.message.bytes (kfake enforces it), and a subject's parts stay in
// order on its partition.
func TestSink_SplitsALargeBatchWithinTheTopicLimit(t *testing.T) {
	c := newCluster(t)
	cfg := testConfig(c)
	cfg.Partitions = 2
	ensure(t, cfg)
	pub := newPublisher(t, cfg)
	sink, err := kafka.NewSink(pub, cfg, newHasher(t), testSigner(t, newHasher(t)))
	if err != nil {
		t.Fatal(err)
	}
	var batch []*event.Event
	for i := range 300 { // ~3 MB for two people
		batch = append(batch, collected(i%2, i/2, 10_000))
	}
	if _, err := sink.Accept(t.Context(), batch); err != nil {
		t.Fatalf("accept: %v", err)
	}
	mb := join(t, cfg)
	last := map[string]time.Time{}
	messages := 0
	for received := 0; received < len(batch); {
		m := mb.next(t, 30*time.Second)
		messages++
		if len(m.Payload) > cfg.MaxMessageBytes {
			t.Errorf("message of %d bytes, over the %d limit", len(m.Payload), cfg.MaxMessageBytes)
		}
		events, err := batchmsg.Decode(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			who := e.Subject.Identifiers[0].Value
			if !e.Time.After(last[who]) {
				t.Fatalf("%s's events out of order", e.Subject.Identifiers[0])
			}
			last[who] = e.Time
			received++
		}
		m.Ack()
	}
	if messages < 4 {
		t.Errorf("3 MB came in %d messages; it must have been split", messages)
	}
}

func TestSubjectKeys_SameSubjectSameKeyWhateverTheIdentifierOrder(t *testing.T) {
	keys, err := kafka.NewSubjectKeys(newHasher(t), 12)
	if err != nil {
		t.Fatal(err)
	}
	a := collected(7, 0, 0)
	b := collected(7, 1, 0)
	ids := b.Subject.Identifiers
	ids[0], ids[1] = ids[1], ids[0]
	ids[1].Value = strings.ToUpper(ids[1].Value) // e-mail addresses match case-insensitively
	ka, err := keys.Key(a)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := keys.Key(b)
	if err != nil {
		t.Fatal(err)
	}
	if ka != kb {
		t.Errorf("one subject, keys %s and %s", ka, kb)
	}
	spread := map[string]int{}
	for p := range 1200 {
		k, err := keys.Key(collected(p, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		spread[k]++
	}
	if len(spread) != 12 {
		t.Fatalf("1,200 people over %d keys, want all 12: %v", len(spread), spread)
	}
	for k, n := range spread {
		if n < 50 || n > 150 {
			t.Errorf("key %s has %d of 1,200 people: the spread is uneven %v", k, n, spread)
		}
	}
	if _, err := keys.Key(&event.Event{ID: uuid.New()}); err == nil {
		t.Error("an event without identifiers got a key")
	}
}
