// Package logtest builds a real, migrated event log on a real ClickHouse
// connection, with fresh secrets, for other packages' tests. It fakes
// nothing.
package logtest

import (
	"context"
	"testing"

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
