package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/embedded"
	"github.com/custodyhq/custody/internal/clickhouse/native"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
	"github.com/custodyhq/custody/internal/projectionstore"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/schema"
)

// Storage is the opened storage of one process.
type Storage struct {
	Conn        clickhouse.Conn
	Events      *eventlog.Log
	Keyring     *keyring.Keyring
	Hasher      *identity.Hasher
	Projections *projectionstore.Store
	Inventory   *inventory.Service
	// Tables names the tables repositories read and write: the Distributed
	// tables in sharded mode (see Rejected).
	Tables migrate.Tables
}

// OpenConn opens the configured ClickHouse transport.
func OpenConn(ctx context.Context, cfg config.Config) (clickhouse.Conn, error) {
	ch := cfg.ClickHouse
	switch ch.Transport {
	case "embedded":
		return embedded.Open(ctx, embedded.Config{
			DataDir:     filepath.Join(cfg.DataDir, "clickhouse"),
			LibraryPath: ch.Embedded.LibraryPath,
			Connections: ch.Embedded.Connections,
		})
	case "native":
		nc := native.Config{
			Addrs: ch.Native.Addrs, Database: ch.Native.Database, Username: ch.Native.Username,
			Password: ch.Native.Password, Compression: ch.Native.Compression,
		}
		if ch.Native.TLS {
			nc.TLS = &native.TLSConfig{Enabled: true, CAFile: ch.Native.CAFile}
		}
		return native.New(ctx, nc)
	}
	return nil, fmt.Errorf("unknown clickhouse transport %q", ch.Transport)
}

// Migrator returns the schema migrator for conn in the configured cluster
// mode.
func Migrator(conn clickhouse.Conn, cfg config.Config, log *slog.Logger) (*migrate.Migrator, error) {
	return migrate.New(conn, schema.ClickHouse(), ddlConfig(cfg), log)
}

// ddlConfig is the cluster mode of every DDL statement: migrations and
// projection tables alike.
func ddlConfig(cfg config.Config) migrate.Config {
	cl := cfg.ClickHouse.Cluster
	return migrate.Config{
		Cluster: cl.Name, Replicated: cl.Replicated, ReplicaPath: cl.ReplicaPath, ReplicaName: cl.ReplicaName,
		Sharded: cl.Sharded,
	}
}

// Open opens the transport, applies pending migrations, loads the secrets
// and builds the repositories. Close releases everything.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Storage, error) {
	hasher, masters, err := loadSecrets(cfg, log)
	if err != nil {
		return nil, err
	}
	conn, err := OpenConn(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse (%s): %w", cfg.ClickHouse.Transport, err)
	}
	caps := conn.Capabilities()
	log.InfoContext(ctx, "clickhouse open", "transport", caps.Transport, "version", caps.Version.String())
	m, err := Migrator(conn, cfg, log)
	if err == nil {
		_, err = m.Up(ctx)
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("migrate schema: %w", err)
	}
	tables := ddlConfig(cfg).Tables()
	logCfg := eventlog.Config{Tables: tables}
	keys, err := keyring.New(eventlog.NewKeyStoreWithConfig(conn, logCfg), masters[0], masters[1:]...)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	events := eventlog.NewWithConfig(conn, hasher, keys, logCfg)
	proj, err := projectionstore.New(conn, projectionstore.Config{DDL: ddlConfig(cfg)})
	if err == nil {
		err = proj.Ensure(ctx, func(name string, done, total uint64) {
			log.InfoContext(ctx, "building projection", "projection", name, "events_done", done, "events_total", total)
		})
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("projections: %w", err)
	}
	inv, err := inventory.New(events, proj, proj, hasher, inventory.Config{})
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &Storage{Conn: conn, Events: events, Keyring: keys, Hasher: hasher, Projections: proj, Inventory: inv, Tables: tables}, nil
}

// Rejected returns the rejected-events repository on this storage.
func (s *Storage) Rejected() *rejected.Store {
	return rejected.NewWithConfig(s.Conn, s.Keyring, rejected.Config{Tables: s.Tables})
}

// Close releases the connection (for chDB, flushes and stops the engine).
func (s *Storage) Close() error { return s.Conn.Close() }

// loadSecrets reads the identifier key and the master keys (active first),
// from the environment or files, generating missing files when allowed.
func loadSecrets(cfg config.Config, log *slog.Logger) (*identity.Hasher, []keyring.MasterKey, error) {
	sec := cfg.Security
	generate := sec.GenerateKeys != nil && *sec.GenerateKeys
	var idKey []byte
	var err error
	if sec.IdentifierKey != "" {
		idKey, err = keyring.ParseSecret(sec.IdentifierKey)
		err = wrapSecret("CUSTODY_IDENTIFIER_KEY", err)
	} else {
		var created bool
		idKey, created, err = keyring.LoadOrCreateSecret(sec.IdentifierKeyFile, generate)
		err = wrapSecret(sec.IdentifierKeyFile, err)
		if created {
			log.Warn("generated identifier key; back it up: without it no identifier can be looked up", "path", sec.IdentifierKeyFile)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	hasher, err := identity.NewHasher(idKey)
	if err != nil {
		return nil, nil, err
	}
	var active keyring.MasterKey
	if sec.MasterKey != "" {
		active, err = keyring.ParseMasterKey(sec.MasterKey)
		err = wrapSecret("CUSTODY_MASTER_KEY", err)
	} else {
		var created bool
		active, created, err = keyring.LoadOrCreateKeyFile(sec.MasterKeyFile, generate)
		err = wrapSecret(sec.MasterKeyFile, err)
		if created {
			log.Warn("generated master key; back it up: without it no stored value can be decrypted", "path", sec.MasterKeyFile, "key_id", active.ID)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	masters := []keyring.MasterKey{active}
	for _, p := range sec.PreviousMasterKeyFile {
		mk, _, err := keyring.LoadOrCreateKeyFile(p, false)
		if err != nil {
			return nil, nil, wrapSecret(p, err)
		}
		masters = append(masters, mk)
	}
	for i, v := range sec.PreviousMasterKeys {
		mk, err := keyring.ParseMasterKey(v)
		if err != nil {
			return nil, nil, wrapSecret(fmt.Sprintf("CUSTODY_PREVIOUS_MASTER_KEYS[%d]", i), err)
		}
		masters = append(masters, mk)
	}
	return hasher, masters, nil
}

func wrapSecret(where string, err error) error {
	if err == nil {
		return nil
	}
	hint := ""
	if errors.Is(err, fs.ErrNotExist) {
		hint = " (provide it, set CUSTODY_MASTER_KEY / CUSTODY_IDENTIFIER_KEY, or set security.generate_keys: true to create it)"
	}
	return fmt.Errorf("load secret from %s%s: %w", where, hint, err)
}
