// Package readtest builds the real read side for other packages' tests: the
// event log on embedded chDB (eventlog/logtest), the stored projections fed
// by it, and the inventory service over them. It fakes nothing.
package readtest

import (
	"context"
	"testing"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/projectionstore"
)

// Env is the read side and the log under it.
type Env struct {
	logtest.Env
	Store     *projectionstore.Store
	Inventory *inventory.Service
}

// Open builds the read side on a fresh embedded engine in a temporary
// directory (CI=true: a missing chDB library fails the test).
func Open(tb testing.TB) Env {
	tb.Helper()
	chtest.RequireLibrary(tb)
	e := logtest.Open(tb, chtest.EmbeddedAt(tb, tb.TempDir()))
	store, err := projectionstore.New(e.Conn, projectionstore.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := store.Ensure(context.Background(), nil); err != nil {
		tb.Fatalf("ensure projections: %v", err)
	}
	inv, err := inventory.New(e.Log, store, store, e.Hasher, inventory.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return Env{Env: e, Store: store, Inventory: inv}
}
