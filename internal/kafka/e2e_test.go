package kafka_test

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/kafka"
	"github.com/custodyhq/custody/internal/node"
	"github.com/custodyhq/custody/internal/node/nodetest"
	"github.com/custodyhq/custody/internal/pipeline/pipelinetest"
	"github.com/custodyhq/custody/internal/storage"
)

// Two ingest replicas, wired by node.OpenTransport exactly as cmd/ingest
// wires one (broker.mode: kafka), are members of one consumer group on a
// six-partition topic and append to one real event log on embedded chDB.
// Requests go through both replicas' sinks, and duplicates are sent two
// ways: requests sent again after they were stored and batches published
// again through another sink (the pipeline must drop both). The log must end up with exactly the
// distinct events, each visible once, and both replicas must have done
// part of the work.
func TestKafkaTransport_TwoReplicasInOneGroup_StoreEveryEventOnce(t *testing.T) {
	chtest.RequireLibrary(t)
	const (
		people     = 300
		total      = 3_000
		perRequest = 100
	)
	ctx := t.Context()
	logs := &pipelinetest.LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("warnings and errors logged:\n%s", logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))

	c := newCluster(t, kfake.NumBrokers(3))
	env := logtest.Open(t, chtest.Embedded(t))
	store := &storage.Storage{Conn: env.Conn, Events: env.Log, Keyring: env.Keys, Hasher: env.Hasher}
	cfg := config.Default()
	cfg.Broker.Mode = "kafka"
	cfg.Broker.Kafka.Brokers = c.ListenAddrs()
	cfg.Broker.Kafka.Partitions = 6
	cfg.Broker.Kafka.ReplicationFactor = 3
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	replicas := []*nodetest.Replica{nodetest.StartReplica(t.Context(), t, cfg, store, log), nodetest.StartReplica(t.Context(), t, cfg, store, log)}
	// Both replicas must hold partitions before the load: a replica that
	// joins late can find the first one has drained everything.
	adm := admin(t, c)
	group := node.KafkaConfig(cfg).ConsumerGroup
	waitFor(t, time.Minute, "both replicas holding partitions of the consumer group", func() bool {
		groups, err := adm.DescribeConsumerGroups([]string{group})
		if err != nil || len(groups) != 1 || groups[0].State != "Stable" || len(groups[0].Members) < 2 {
			return false
		}
		for _, m := range groups[0].Members {
			a, err := m.GetMemberAssignment()
			if err != nil || a == nil || len(a.Topics) == 0 {
				return false
			}
		}
		return true
	})

	var events []*event.Event
	seq := map[int]int{}
	for i := range total {
		p := i % people
		events = append(events, collected(p, seq[p], 0))
		seq[p]++
	}
	var batches [][]*event.Event
	for i := 0; i < total; i += perRequest {
		batches = append(batches, events[i:i+perRequest])
	}
	// Requests through both replicas, concurrently, as behind a load
	// balancer.
	var wg sync.WaitGroup
	errs := make(chan error, len(batches))
	for i, b := range batches {
		wg.Go(func() {
			if _, err := replicas[i%2].Transport.Sink.Accept(ctx, b); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("accept: %v", err)
	}
	// Duplicates: the first batches again through another sink, so they
	// reach Kafka and the pipeline a second time.
	kcfg := node.KafkaConfig(cfg)
	pub := newPublisher(t, kcfg)
	blind, err := kafka.NewSink(pub, kcfg, env.Hasher, testSigner(t, env.Hasher))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches[:5] {
		if _, err := blind.Accept(ctx, b); err != nil {
			t.Fatalf("accept duplicates: %v", err)
		}
	}

	// Wait on the id index the pipeline consults, not on a count of the log: a
	// view's rows commit just after the log's, so a count can run ahead.
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	waitFor(t, 2*time.Minute, "every event in the log", func() bool {
		known, err := env.Log.Known(ctx, ids)
		if err != nil {
			t.Fatalf("known: %v", err)
		}
		return len(known) == total
	})
	// Requests sent again after the pipeline stored them: accepted again
	// (ingest does not ask the log), and stored once (checked below).
	verdicts, err := replicas[1].Transport.Sink.Accept(ctx, batches[len(batches)-1])
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range verdicts {
		if v != ingest.Accepted {
			t.Fatalf("stored event %d sent again: %s, want accepted", i, v)
		}
	}
	// The duplicates published past the check have been handled too.
	waitFor(t, time.Minute, "the duplicate batches dropped", func() bool {
		var dups float64
		for _, r := range replicas {
			dups += pipelinetest.Counter(t, r.Registry, "custody_pipeline_events_total", "outcome", "duplicate")
		}
		return dups >= 6*perRequest
	})

	seen := logtest.VisibleOnce(t, env.Log)
	if len(seen) != total {
		t.Fatalf("the log holds %d distinct events, want %d", len(seen), total)
	}
	for _, e := range events {
		if !seen[e.ID] {
			t.Fatalf("event %s accepted but not stored", e.ID)
		}
	}
	for i, r := range replicas {
		n := pipelinetest.Counter(t, r.Registry, "custody_pipeline_batches_total", "result", "stored")
		if n == 0 {
			t.Errorf("replica %d appended no batch: the consumer group did not share the partitions", i+1)
		}
		t.Logf("replica %d appended %.0f batches (%.0f events stored, %.0f duplicates dropped)", i+1, n,
			pipelinetest.Counter(t, r.Registry, "custody_pipeline_events_total", "outcome", "stored"),
			pipelinetest.Counter(t, r.Registry, "custody_pipeline_events_total", "outcome", "duplicate"))
	}
}
