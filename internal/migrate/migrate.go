package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
)

// ErrChecksumMismatch means an applied migration file was edited afterwards.
var ErrChecksumMismatch = errors.New("migrate: applied migration was changed")

// Bookkeeping SQL. The ledger table is created by the migrator itself, in
// the same cluster mode as the schema.
const (
	createLedger = `CREATE TABLE IF NOT EXISTS custody_migrations%s
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime
)
ENGINE = %s
ORDER BY version`
	// createLedgerDistributed is the ledger's Distributed table in sharded
	// mode, so that every process reads the one ledger whatever shard it
	// reaches (a local ledger's replica path holds {shard}). Sharding by
	// version keeps a version's rows on one shard for FINAL.
	createLedgerDistributed = `CREATE TABLE IF NOT EXISTS custody_migrations_all{{.OnCluster}} AS custody_migrations
ENGINE = {{distributed "custody_migrations" "cityHash64(version)"}}`
	tableLedger   = "custody_migrations"
	selectApplied = `SELECT version, name, checksum, applied_at FROM {{table "custody_migrations"}} FINAL ORDER BY version`
)

// Applied is one ledger row.
type Applied struct {
	Version  uint32    `ch:"version"`
	Name     string    `ch:"name"`
	Checksum string    `ch:"checksum"`
	At       time.Time `ch:"applied_at"`
}

// Migrator applies migrations through a ClickHouse port.
type Migrator struct {
	conn       clickhouse.Conn
	migrations []Migration
	cfg        Config
	tables     Tables
	selectSQL  string
	log        *slog.Logger
}

// New renders files (see Load) for conn. A migration that renders to no
// statement in cfg's mode (005_distributed.sql outside sharded mode) does
// not apply to it: it is neither run nor recorded, so that it is applied
// when a mode that renders it is configured (an unsharded cluster switched
// to sharded mode gets its Distributed tables).
func New(conn clickhouse.Conn, files fs.FS, cfg Config, log *slog.Logger) (*Migrator, error) {
	all, err := Load(files, cfg)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, m := range all {
		if len(m.Statements) > 0 {
			ms = append(ms, m)
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	tables := cfg.Tables()
	sel, err := tables.SQL(selectApplied)
	if err != nil {
		return nil, err
	}
	return &Migrator{conn: conn, migrations: ms, cfg: cfg, tables: tables, selectSQL: sel, log: log}, nil
}

// Migrations returns the rendered migrations that apply in this mode.
func (m *Migrator) Migrations() []Migration { return m.migrations }

// Up applies every migration not yet in the ledger, in order, and returns
// the ones it applied. It is idempotent: a second call applies nothing. A
// ledger checksum that differs from the file fails with ErrChecksumMismatch
// before anything runs.
func (m *Migrator) Up(ctx context.Context) ([]Migration, error) {
	if err := m.ensureLedger(ctx); err != nil {
		return nil, err
	}
	done, err := m.applied(ctx)
	if err != nil {
		return nil, err
	}
	// Check every applied file first, so that a mismatch stops Up before
	// anything runs, even when an unapplied migration sorts before it.
	for _, mig := range m.migrations {
		if prev, ok := done[uint32(mig.Version)]; ok && prev.Checksum != mig.Checksum {
			return nil, fmt.Errorf("%w: %03d_%s.sql differs from what was applied; add a new migration instead of editing it", ErrChecksumMismatch, mig.Version, mig.Name)
		}
	}
	var ran []Migration
	for _, mig := range m.migrations {
		if _, ok := done[uint32(mig.Version)]; ok {
			continue
		}
		start := time.Now()
		for i, stmt := range mig.Statements {
			if err := m.conn.Exec(ctx, stmt, nil); err != nil {
				return ran, fmt.Errorf("migration %03d_%s statement %d: %w", mig.Version, mig.Name, i+1, err)
			}
		}
		row := []Applied{{Version: uint32(mig.Version), Name: mig.Name, Checksum: mig.Checksum, At: time.Now().UTC().Truncate(time.Second)}}
		if err := m.conn.Insert(m.tables.InsertContext(ctx, ""), m.tables.Name(tableLedger), row); err != nil {
			return ran, fmt.Errorf("record migration %03d_%s: %w", mig.Version, mig.Name, err)
		}
		m.log.InfoContext(ctx, "migration applied", "version", mig.Version, "name", mig.Name, "duration", time.Since(start))
		ran = append(ran, mig)
	}
	return ran, nil
}

// Status returns the ledger.
func (m *Migrator) Status(ctx context.Context) ([]Applied, error) {
	if err := m.ensureLedger(ctx); err != nil {
		return nil, err
	}
	var rows []Applied
	if err := m.conn.Select(ctx, &rows, m.selectSQL, nil); err != nil {
		return nil, fmt.Errorf("read migrations ledger: %w", err)
	}
	return rows, nil
}

func (m *Migrator) ensureLedger(ctx context.Context) error {
	ddl, err := m.cfg.ledgerDDL()
	if err != nil {
		return err
	}
	for _, stmt := range ddl {
		if err := m.conn.Exec(ctx, stmt, nil); err != nil {
			return fmt.Errorf("create migrations ledger: %w", err)
		}
	}
	return nil
}

// ledgerDDL is the ledger table and, in sharded mode, its Distributed table.
func (c Config) ledgerDDL() ([]string, error) {
	out := []string{fmt.Sprintf(createLedger, c.onCluster(), c.engine("ReplacingMergeTree"))}
	if c.Sharded {
		d, err := c.Render("ledger", createLedgerDistributed, nil)
		if err != nil {
			return nil, fmt.Errorf("create migrations ledger: %w", err)
		}
		out = append(out, d...)
	}
	return out, nil
}

func (m *Migrator) applied(ctx context.Context) (map[uint32]Applied, error) {
	var rows []Applied
	if err := m.conn.Select(ctx, &rows, m.selectSQL, nil); err != nil {
		return nil, fmt.Errorf("read migrations ledger: %w", err)
	}
	out := make(map[uint32]Applied, len(rows))
	for _, r := range rows {
		out[r.Version] = r
	}
	return out, nil
}
