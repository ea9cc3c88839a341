package storage

import (
	"context"
	"log/slog"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
)

// GuardKeys runs Open's key check on conn in tables' mode, for the sharded
// test, which cannot go through Open (chDB runs no cluster).
func GuardKeys(ctx context.Context, conn clickhouse.Conn, tables migrate.Tables, log *slog.Logger,
	idKey []byte, active keyring.MasterKey, previous ...keyring.MasterKey) (*keyring.Keyring, error) {
	sec := &secrets{idKey: idKey, idSource: "the test", active: active, activeSource: "the test", previous: previous}
	_, keys, err := openKeys(ctx, conn, tables, sec, log)
	return keys, err
}
