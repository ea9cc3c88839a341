package native

import (
	"context"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/conformance"
)

// TestConformance runs the port's shared suite on the server at
// CUSTODY_TEST_CLICKHOUSE_NATIVE_ADDR (Debian's 18.16 in CI: cases needing a
// newer server are skipped with the reason in the log).
func TestConformance(t *testing.T) {
	addr := liveAddr(t)
	conformance.Run(t, func(t *testing.T) clickhouse.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := New(ctx, Config{Addrs: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}
