package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/node"
	"github.com/custodyhq/custody/internal/node/nodetest"
	"github.com/custodyhq/custody/internal/pipeline/pipelinetest"
	"github.com/custodyhq/custody/internal/storage"
)

const (
	tenant      = "acme"
	totalEvents = 20_000
	batchEvents = 100 // one HTTP request's worth: one Accept, one broker message
	publishers  = 4   // concurrent requests
)

// Two ingest replicas, wired by node.OpenTransport exactly as cmd/ingest
// wires one, share the durable consumer of a stream replicated on a
// three-server JetStream cluster. Publishers send 20,000 events through the
// replicas' ingest sinks (the path of POST /v1/events: an Accept returns
// only once the broker acknowledged the batch) and retry what fails. When a
// third of the load is acknowledged one server is shut down: the stream's
// leader (publishes fail over), or the consumer's leader (deliveries and
// acks fail over). Every acknowledged event must end up in the log exactly
// once.
func TestNATSCluster_ServerLostMidLoad_EveryAcceptedEventStoredOnce(t *testing.T) {
	chtest.RequireLibrary(t)
	tests := []struct {
		name   string
		victim func(c *natsCluster, stream, durable string) string
	}{
		{"stream leader", func(c *natsCluster, stream, _ string) string { return c.streamLeader(stream) }},
		{"consumer leader", func(c *natsCluster, stream, durable string) string { return c.consumerLeader(stream, durable) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { loseServerUnderLoad(t, tt.victim) })
	}
}

func loseServerUnderLoad(t *testing.T, victim func(c *natsCluster, stream, durable string) string) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := &pipelinetest.LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("warnings and errors logged:\n%s", logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))

	cluster := startNATSCluster(t, 3)
	env := logtest.Open(t, chtest.Embedded(t))
	store := &storage.Storage{Conn: env.Conn, Events: env.Log, Keyring: env.Keys, Hasher: env.Hasher}
	cfg := config.Default()
	cfg.Broker.Mode = "nats"
	cfg.Broker.URLs = cluster.URLs()
	cfg.Broker.Replicas = 3
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	bcfg := node.BrokerConfig(cfg)
	replicas := []*nodetest.Replica{nodetest.StartReplica(ctx, t, cfg, store, log), nodetest.StartReplica(ctx, t, cfg, store, log)}
	setup := time.Since(began)

	leader := victim(cluster, bcfg.Stream, bcfg.Durable)
	if leader == "" {
		t.Fatalf("no server to shut down: stream %s or consumer %s has no leader", bcfg.Stream, bcfg.Durable)
	}
	t.Logf("stream %s (R%d) led by %s, consumer %s led by %s; %s will be shut down", bcfg.Stream, bcfg.Replicas,
		cluster.streamLeader(bcfg.Stream), bcfg.Durable, cluster.consumerLeader(bcfg.Stream, bcfg.Durable), leader)

	events := generate(totalEvents)
	var (
		acked       sync.Map // uuid.UUID → struct{}: Accept returned nil for its batch
		ackedCount  atomic.Int64
		failed      atomic.Int64 // Accept calls that failed and were retried
		ackedAfter  atomic.Int64 // batches acknowledged after the kill
		killed      atomic.Bool
		killedAt    time.Time
		killErr     error
		killOnce    sync.Once
		killRequest = make(chan struct{})
	)
	// The killer waits for a third of the load, then shuts the leader down
	// while the publishers keep going.
	killDone := make(chan struct{})
	go func() {
		defer close(killDone)
		select {
		case <-killRequest:
		case <-ctx.Done():
			return
		}
		killedAt = time.Now()
		if killErr = cluster.Shutdown(leader); killErr == nil {
			killed.Store(true)
		}
	}()

	jobs := make(chan []*event.Event)
	errs := make(chan error, publishers)
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for batch := range jobs {
				// Alternate replicas, as a load balancer would.
				sink := replicas[(p+n)%len(replicas)].Transport.Sink
				n++
				retries, err := acceptWithRetry(ctx, sink, batch)
				failed.Add(int64(retries))
				if err != nil {
					errs <- err
					return
				}
				for _, e := range batch {
					acked.Store(e.ID, struct{}{})
				}
				if killed.Load() {
					ackedAfter.Add(1)
				}
				if ackedCount.Add(int64(len(batch))) >= totalEvents/3 {
					killOnce.Do(func() { close(killRequest) })
				}
			}
		}()
	}
	loadStart := time.Now()
	for i := 0; i < len(events); i += batchEvents {
		select {
		case jobs <- events[i:min(i+batchEvents, len(events))]:
		case err := <-errs:
			close(jobs)
			wg.Wait()
			t.Fatalf("publisher gave up: %v", err)
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("publisher gave up: %v", err)
	}
	loadTook := time.Since(loadStart)
	<-killDone
	if !killed.Load() {
		t.Fatalf("%s was never shut down: %v", leader, killErr)
	}
	if ackedAfter.Load() == 0 {
		t.Fatal("no batch was acknowledged after the shutdown: the load did not continue through the failure")
	}
	if got := ackedCount.Load(); got != totalEvents {
		t.Fatalf("%d events acknowledged, want all %d (publishers retry until acknowledged)", got, totalEvents)
	}
	t.Logf("load: %d events in %d-event batches by %d publishers in %s; %s shut down after %s; %d publishes failed and were retried; stream now led by %q, consumer by %q",
		totalEvents, batchEvents, publishers, loadTook.Round(time.Millisecond), leader, killedAt.Sub(loadStart).Round(time.Millisecond),
		failed.Load(), cluster.streamLeader(bcfg.Stream), cluster.consumerLeader(bcfg.Stream, bcfg.Durable))

	// Everything acknowledged reaches the log.
	// Bounded well above a consumer fail-over plus the pipeline's AckWait
	// (60 s) for a delivery lost with the server.
	drainStart := time.Now()
	drainBy := drainStart.Add(90 * time.Second)
	var stored uint64
	for {
		var err error
		if stored, err = env.Log.Count(ctx, tenant); err != nil {
			t.Fatalf("count: %v", err)
		}
		if stored >= totalEvents || time.Now().After(drainBy) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	drained := time.Since(drainStart)
	if stored != totalEvents {
		t.Fatalf("log holds %d distinct events after %s, want the %d acknowledged", stored, drained.Round(time.Millisecond), totalEvents)
	}

	// Readers see each acknowledged event once, and nothing else.
	seen := make(map[uuid.UUID]bool, totalEvents)
	var cur eventlog.Cursor
	for {
		page, next, err := env.Log.Scan(ctx, cur, 10_000)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			id := r.Event.ID
			if seen[id] {
				t.Fatalf("event %s visible twice", id)
			}
			if _, ok := acked.Load(id); !ok {
				t.Fatalf("event %s stored but never acknowledged", id)
			}
			seen[id] = true
		}
		cur = next
	}
	if len(seen) != totalEvents {
		t.Fatalf("scan saw %d events, want %d", len(seen), totalEvents)
	}

	// Both replicas did part of the work (the queue group shares it).
	for i, r := range replicas {
		if n := pipelinetest.Counter(t, r.Registry, "custody_pipeline_batches_total", "result", "stored"); n == 0 {
			t.Errorf("ingest replica %d appended no batch: the consumer's work was not shared", i+1)
		} else {
			t.Logf("ingest replica %d appended %.0f batches (%.0f events stored, %.0f duplicates dropped)", i+1, n,
				pipelinetest.Counter(t, r.Registry, "custody_pipeline_events_total", "outcome", "stored"),
				pipelinetest.Counter(t, r.Registry, "custody_pipeline_events_total", "outcome", "duplicate"))
		}
	}
	t.Logf("setup %s, load %s, drain after load %s, total %s", setup.Round(time.Millisecond), loadTook.Round(time.Millisecond),
		drained.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// acceptWithRetry hands batch to sink until the broker acknowledges it, as
// an HTTP client retries a 503: with backoff, the same events (same ids).
// It returns how many attempts failed. Every verdict must be accepted, or
// duplicate on a retry (an earlier attempt got through before failing).
func acceptWithRetry(ctx context.Context, sink ingest.Sink, batch []*event.Event) (int, error) {
	wait := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		verdicts, err := sink.Accept(actx, batch)
		cancel()
		if err == nil {
			if len(verdicts) != len(batch) {
				return attempt, fmt.Errorf("%d verdicts for %d events", len(verdicts), len(batch))
			}
			for i, v := range verdicts {
				if v != ingest.Accepted && !(v == ingest.Duplicate && attempt > 0) {
					return attempt, fmt.Errorf("event %s: verdict %q on attempt %d", batch[i].ID, v, attempt+1)
				}
			}
			return attempt, nil
		}
		if ctx.Err() != nil {
			return attempt, fmt.Errorf("batch not acknowledged after %d attempts: %w", attempt+1, errors.Join(err, ctx.Err()))
		}
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}

// generate returns n valid data.collected events for 2,000 people, with
// fresh ids and times in the past.
func generate(n int) []*event.Event {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*event.Event, n)
	for i := range out {
		person := i % 2000
		email := fmt.Sprintf("user%04d@example.org", person)
		value, _ := json.Marshal(email)
		out[i] = &event.Event{
			ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeCollected,
			Source: "signup-service", Tenant: tenant, Time: base.Add(time.Duration(i) * time.Minute),
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
	return out
}
