// Package chtest opens real ClickHouse engines for tests: chDB always, and a
// ClickHouse server when one is configured. It never fakes storage. Under
// CI=true a missing dependency fails the test instead of skipping it.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chdb"
	"github.com/custodyhq/custody/internal/clickhouse/embedded"
	"github.com/custodyhq/custody/internal/clickhouse/native"
)

// ModernServerEnv names a modern ClickHouse server (host:port, native
// protocol) to run the product suite on through the native transport.
const ModernServerEnv = "CUSTODY_TEST_CLICKHOUSE_ADDR"

// Transport is one engine a product test runs on.
type Transport struct {
	Name string
	// Open returns a connection to an empty database that lives as long as
	// the test; the connection is closed when the test ends.
	Open func(t *testing.T) clickhouse.Conn
}

// Transports returns embedded chDB, plus the native transport when
// CUSTODY_TEST_CLICKHOUSE_ADDR is set.
func Transports(t *testing.T) []Transport {
	out := []Transport{{Name: "embedded", Open: Embedded}}
	if os.Getenv(ModernServerEnv) != "" {
		out = append(out, Transport{Name: "native", Open: Native})
	} else {
		t.Logf("%s not set: product suite runs on embedded chDB only", ModernServerEnv)
	}
	return out
}

// RequireLibrary fails (CI) or skips the test when libchdb.so is missing.
func RequireLibrary(t testing.TB) {
	t.Helper()
	p := chdb.DefaultLibraryPath()
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("libchdb.so missing at %s in CI: `make deps` must install it", p)
		}
		t.Skipf("libchdb.so missing at %s; run `make deps`", p)
	}
}

// Embedded opens chDB on a fresh directory. chDB serves one directory per
// process, so tests using it must not run in parallel.
func Embedded(t *testing.T) clickhouse.Conn {
	return EmbeddedAt(t, t.TempDir())
}

// EmbeddedAt opens chDB on dir and closes it when the test ends.
func EmbeddedAt(t testing.TB, dir string) clickhouse.Conn {
	t.Helper()
	RequireLibrary(t)
	c, err := embedded.Open(context.Background(), embedded.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("open embedded clickhouse: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Native opens the server at CUSTODY_TEST_CLICKHOUSE_ADDR on a fresh
// database, dropped when the test ends.
func Native(t *testing.T) clickhouse.Conn {
	t.Helper()
	addr := os.Getenv(ModernServerEnv)
	if addr == "" {
		t.Skipf("%s not set", ModernServerEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := native.New(ctx, native.Config{Addrs: []string{addr}})
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	db := "custody_test_" + hex.EncodeToString(b)
	if err := admin.Exec(ctx, "CREATE DATABASE "+db, nil); err != nil {
		t.Fatalf("create database: %v", err)
	}
	c, err := native.New(ctx, native.Config{Addrs: []string{addr}, Database: db})
	if err != nil {
		t.Fatalf("connect %s/%s: %v", addr, db, err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		_ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db, nil)
		_ = admin.Close()
	})
	return c
}
