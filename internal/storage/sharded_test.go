package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/clickhouse/embedded"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
	"github.com/custodyhq/custody/internal/projectionstore"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/schema"
)

// oneShardCluster is a chDB configuration with a cluster "custody" whose
// one shard is this engine: with tcp_port set to the replica's port, the
// replica is local (is_local), so Distributed tables read and write the
// local tables in-process. chDB listens on no port and runs no Keeper, so
// a second shard, ON CLUSTER and Replicated engines cannot run here.
const oneShardCluster = `<clickhouse>
    <tcp_port>9000</tcp_port>
    <remote_servers>
        <custody>
            <shard><internal_replication>true</internal_replication>
                <replica><host>localhost</host><port>9000</port></replica>
            </shard>
        </custody>
    </remote_servers>
</clickhouse>
`

// What can run of sharded mode on chDB: the single-node schema, then the
// migrations' Distributed tables without ON CLUSTER, so that every
// <table>_all is a Distributed table over a one-shard cluster; and the
// repositories in sharded mode on it. An append through events_all lands
// in the local events table and fires its views (event_ids, identifiers,
// projections), with the sharded insert settings; reads through the
// Distributed tables find it, and a second append finds it stored. An
// internal event (a recorded read) is found by identifier through
// events_all and the local event_identifiers.
func TestShardedMode_RepositoriesWorkThroughDistributedTablesOnAOneShardCluster(t *testing.T) {
	conn, sharded, distributed := oneShardConn(t)
	ctx := context.Background()
	var engines []struct {
		N string `ch:"name"`
		E string `ch:"engine"`
	}
	if err := conn.Select(ctx, &engines, "SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND name LIKE '%\\_all'", nil); err != nil {
		t.Fatal(err)
	}
	if len(engines) != distributed || distributed < 6 {
		t.Fatalf("Distributed tables %+v, want the %d the migrations create (005's 6 at least)", engines, distributed)
	}

	tables := sharded.Tables()
	secret, _ := keyring.GenerateSecret()
	hasher, err := identity.NewHasher(secret)
	if err != nil {
		t.Fatal(err)
	}
	master, _, _ := keyring.GenerateMasterKey()
	keys, err := keyring.New(eventlog.NewKeyStoreWithConfig(conn, eventlog.Config{Tables: tables}), master)
	if err != nil {
		t.Fatal(err)
	}
	log := eventlog.NewWithConfig(conn, hasher, keys, eventlog.Config{Tables: tables})
	// Projection tables and views are created without ON CLUSTER on the
	// same engine by a single-node Store; reads go through a sharded one
	// once their Distributed tables exist.
	localProj, err := projectionstore.New(conn, projectionstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := localProj.Ensure(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE identity_edges_v1_all AS identity_edges_v1 ENGINE = Distributed(custody, currentDatabase(), identity_edges_v1, cityHash64(least(from_hash, to_hash)))",
		"CREATE TABLE datamap_facts_v2_all AS datamap_facts_v2 ENGINE = Distributed(custody, currentDatabase(), datamap_facts_v2, cityHash64(subject_key))",
	} {
		if err := conn.Exec(ctx, q, nil); err != nil {
			t.Fatal(err)
		}
	}
	proj, err := projectionstore.New(conn, projectionstore.Config{DDL: sharded})
	if err != nil {
		t.Fatal(err)
	}

	e := &event.Event{
		ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeCollected, Source: "checkout-service",
		Tenant: tenant, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Subject: event.Subject{Identifiers: []event.Identifier{{Kind: email.Kind, Value: email.Value}}},
		Data: &event.Collected{
			Elements: []event.Element{{Name: "card", Category: "financial.card_number", Value: card}},
			Origin:   event.Origin{Kind: "consumer"}, Purposes: []string{"order_fulfilment"}, System: "orders-db",
		},
	}
	out, err := log.Append(ctx, []*event.Event{e})
	if err != nil || out[0] != eventlog.Stored {
		t.Fatalf("append through events_all: %v %v", out, err)
	}
	out, err = log.Append(ctx, []*event.Event{e})
	if err != nil || out[0] != eventlog.Duplicate {
		t.Fatalf("second append: %v %v, want duplicate (event_ids_v2_all, fed by the view on the local table)", out, err)
	}
	ref, err := hasher.Ref(identity.Identifier{Kind: identity.Email, Value: "jane@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := log.ByPerson(ctx, tenant, []string{ref.Hash})
	if err != nil || len(recs) != 1 || recs[0].Event.ID != e.ID {
		t.Fatalf("read the person through events_all: %d records, %v", len(recs), err)
	}
	nb, err := proj.Neighbours(ctx, tenant, []string{ref.Hash})
	if err != nil || len(nb) == 0 {
		t.Fatalf("neighbours through identity_edges_v1_all: %v %v", nb, err)
	}
	st, err := proj.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.State != "live" || s.Rows == 0 || s.LogEvents != 1 {
			t.Errorf("projection %s through Distributed tables: %+v", s.Name, s)
		}
	}
	rej := rejected.NewWithConfig(conn, keys, rejected.Config{Tables: tables})
	if _, err := rej.List(ctx, rejected.Filter{}); err != nil {
		t.Fatalf("rejected list through rejected_events_all: %v", err)
	}

	// A recorded read of Jane, an internal event: found by her identifier
	// through events_all and the local event_identifiers its view filled.
	read := &event.Event{
		ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeAccessRecorded, Source: "custody",
		Tenant: tenant, Time: e.Time.Add(time.Hour), Subject: e.Subject,
		Data: &event.Access{Actor: "analyst-token", Role: "analyst", Operation: "graphql.subject", Purpose: "answer a request", Found: true},
	}
	if out, err := log.Append(ctx, []*event.Event{read}); err != nil || out[0] != eventlog.Stored {
		t.Fatalf("append the read through events_all: %v %v", out, err)
	}
	recs, err = log.InternalByIdentifiers(ctx, tenant, identity.Identifier{Kind: identity.Email, Value: "jane@example.com"})
	if err != nil || len(recs) != 1 || recs[0].Event.ID != read.ID {
		t.Fatalf("read internal events through events_all and event_identifiers: %d records, %v", len(recs), err)
	}

	// Two rows in the local table: the Distributed inserts wrote them there.
	var n []struct {
		N uint64 `ch:"n"`
	}
	if err := conn.Select(ctx, &n, "SELECT count() AS n FROM events", clickhouse.Params{}); err != nil || len(n) != 1 || n[0].N != 2 {
		t.Fatalf("local events rows %v %v, want 2", n, err)
	}
}

// oneShardConn opens chDB on a one-shard cluster (oneShardCluster),
// migrated as a single node, with the Distributed tables of every
// migration created over the local tables (ON CLUSTER dropped: chDB runs
// no distributed DDL). It returns the sharded configuration and how many
// Distributed tables it created.
func oneShardConn(t *testing.T) (*embedded.Conn, migrate.Config, int) {
	t.Helper()
	chtest.RequireLibrary(t)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "cluster.xml")
	if err := os.WriteFile(cfgFile, []byte(oneShardCluster), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := embedded.Open(ctx, embedded.Config{DataDir: filepath.Join(dir, "ch"), EngineArgs: []string{"--config-file=" + cfgFile}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	single, err := migrate.New(conn, schema.ClickHouse(), migrate.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := single.Up(ctx); err != nil {
		t.Fatal(err)
	}
	sharded := migrate.Config{Cluster: "custody", Replicated: true, Sharded: true}
	ms, err := migrate.Load(schema.ClickHouse(), sharded)
	if err != nil {
		t.Fatal(err)
	}
	distributed := 0
	for _, m := range ms {
		for _, stmt := range m.Statements {
			// The Distributed tables of every migration (005's, and those
			// later migrations add beside their local tables); the local
			// tables exist already (single-node schema).
			if !strings.Contains(stmt, "Distributed(") {
				continue
			}
			distributed++
			local := strings.ReplaceAll(stmt, " ON CLUSTER custody", "")
			if err := conn.Exec(ctx, local, nil); err != nil {
				t.Fatalf("chDB cannot execute\n%s\n%v", local, err)
			}
		}
	}
	return conn, sharded, distributed
}
