// Package logtest builds a real, migrated event log on a real ClickHouse
// connection, with fresh secrets, for other packages' tests. It fakes
// nothing.
package logtest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
	"github.com/custodyhq/custody/schema"
)

// Env is an event log and the parts it was built from.
type Env struct {
	Conn   clickhouse.Conn
	Log    *eventlog.Log
	Keys   *keyring.Keyring
	Hasher *identity.Hasher
}

// Open migrates conn and builds the event log with a fresh identifier key
// and master key.
func Open(t testing.TB, conn clickhouse.Conn) Env {
	t.Helper()
	m, err := migrate.New(conn, schema.ClickHouse(), migrate.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	secret, err := keyring.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := identity.NewHasher(secret)
	if err != nil {
		t.Fatal(err)
	}
	master, _, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.New(eventlog.NewKeyStore(conn), master)
	if err != nil {
		t.Fatal(err)
	}
	return Env{Conn: conn, Log: eventlog.New(conn, hasher, keys), Keys: keys, Hasher: hasher}
}

// Hashes returns the stored hashes of ids, as Log.ByPerson takes them: to
// read all of a person's events, pass all of their identifiers (an event's
// subject key is the smallest hash of its identifiers).
func Hashes(t testing.TB, h *identity.Hasher, ids ...identity.Identifier) []string {
	t.Helper()
	out := make([]string, len(ids))
	for i, id := range ids {
		ref, err := h.Ref(id)
		if err != nil {
			t.Fatalf("hash identifier %d: %v", i, err)
		}
		out[i] = ref.Hash
	}
	return out
}

// VisibleOnce scans the whole log as readers see it, fails the test if an
// event is visible twice, and returns the ids it saw.
func VisibleOnce(t testing.TB, l *eventlog.Log) map[uuid.UUID]bool {
	t.Helper()
	seen := map[uuid.UUID]bool{}
	var cur eventlog.Cursor
	for {
		page, next, err := l.Scan(context.Background(), cur, 5_000)
		if err != nil {
			t.Fatalf("scan the log: %v", err)
		}
		if len(page) == 0 {
			return seen
		}
		for _, r := range page {
			if seen[r.Event.ID] {
				t.Fatalf("event %s visible twice", r.Event.ID)
			}
			seen[r.Event.ID] = true
		}
		cur = next
	}
}

// SyntheticEvents is an INSERT of {n:UInt64} events written by the engine
// itself, for benchmarks that need a log of millions: tenant
// {tenant:String}, {people:UInt64} people (subject keys), one in four a
// sale of an email to an ad network and the rest collections of one,
// spread over {span:UInt64} seconds from {start:DateTime64(3, 'UTC')} and
// recorded five minutes later. They go into events and through its
// materialized views (event_ids among them), as appended events do; ids
// are random (generateUUIDv4).
const SyntheticEvents = `INSERT INTO events (tenant, subject_key, occurred_at, event_id, type, source, spec_version,
    recorded_at, identifier_kinds, identifier_namespaces, identifier_hashes, data, sealed_key_id, sealed_values)
SELECT {tenant:String}, lower(hex(SHA256(toString(number % {people:UInt64})))) AS sk,
       {start:DateTime64(3, 'UTC')} + toIntervalSecond(number % {span:UInt64}) AS at,
       generateUUIDv4(), if(number % 4 = 0, 'data.shared', 'data.collected'), 'bench', '1.0', at + toIntervalMinute(5),
       ['email'], [''], [sk],
       if(number % 4 = 0,
          '{"recipient":{"name":"AdNet","kind":"advertising_network","role":"third_party"},"elements":[{"name":"email","category":"contact.email"}],"purposes":["targeted_advertising"],"disclosure":"sale","system":"crm"}',
          '{"elements":[{"name":"email","category":"contact.email"}],"origin":{"kind":"consumer","name":"form"},"purposes":["marketing"],"system":"crm"}'),
       '', ''
FROM numbers({n:UInt64})`
