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
	selectApplied = `SELECT version, name, checksum, applied_at FROM custody_migrations FINAL ORDER BY version`
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
	log        *slog.Logger
}

// New renders files (see Load) for conn.
func New(conn clickhouse.Conn, files fs.FS, cfg Config, log *slog.Logger) (*Migrator, error) {
	ms, err := Load(files, cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	return &Migrator{conn: conn, migrations: ms, cfg: cfg, log: log}, nil
}

// Migrations returns the rendered migrations.
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
		if err := m.conn.Insert(ctx, "custody_migrations", row); err != nil {
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
	if err := m.conn.Select(ctx, &rows, selectApplied, nil); err != nil {
		return nil, fmt.Errorf("read migrations ledger: %w", err)
	}
	return rows, nil
}

func (m *Migrator) ensureLedger(ctx context.Context) error {
	ddl := fmt.Sprintf(createLedger, m.cfg.onCluster(), m.cfg.engine("ReplacingMergeTree"))
	if err := m.conn.Exec(ctx, ddl, nil); err != nil {
		return fmt.Errorf("create migrations ledger: %w", err)
	}
	return nil
}

func (m *Migrator) applied(ctx context.Context) (map[uint32]Applied, error) {
	var rows []Applied
	if err := m.conn.Select(ctx, &rows, selectApplied, nil); err != nil {
		return nil, fmt.Errorf("read migrations ledger: %w", err)
	}
	out := make(map[uint32]Applied, len(rows))
	for _, r := range rows {
		out[r.Version] = r
	}
	return out, nil
}
