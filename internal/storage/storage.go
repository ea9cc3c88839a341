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

// Open opens the transport, applies pending migrations, loads the secrets,
// checks them against the fingerprints recorded in storage (see keys.go:
// a missing or different key is refused with ErrKeyMissing or
// ErrKeyMismatch, and missing key files are generated only into an empty
// installation) and builds the repositories. Close releases everything.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Storage, error) {
	sec, err := loadSecrets(cfg)
	if err != nil {
		return nil, err
	}
	defer func() { clear(sec.idKey) }() // the hasher holds a copy; a generated key replaces it
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
	hasher, keys, err := openKeys(ctx, conn, tables, sec, log)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	events := eventlog.NewWithConfig(conn, hasher, keys, eventlog.Config{Tables: tables})
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

// openKeys checks the configured keys against the fingerprints recorded in
// storage, generating missing ones only into an empty installation, and
// returns the identifier hasher and the keyring (see keys.go).
func openKeys(ctx context.Context, conn clickhouse.Conn, tables migrate.Tables, sec *secrets, log *slog.Logger) (*identity.Hasher, *keyring.Keyring, error) {
	guard := newKeyGuard(conn, tables, log)
	if err := guard.resolve(ctx, sec); err != nil {
		return nil, nil, err
	}
	hasher, err := identity.NewHasher(sec.idKey)
	if err != nil {
		return nil, nil, err
	}
	keys, err := keyring.New(eventlog.NewKeyStoreWithConfig(conn, eventlog.Config{Tables: tables}), sec.active, sec.previous...)
	if err != nil {
		return nil, nil, err
	}
	if err := guard.record(ctx, sec, keys, hasher); err != nil {
		return nil, nil, err
	}
	return hasher, keys, nil
}

// Rejected returns the rejected-events repository on this storage.
func (s *Storage) Rejected() *rejected.Store {
	return rejected.NewWithConfig(s.Conn, s.Keyring, rejected.Config{Tables: s.Tables})
}

// Close releases the connection (for chDB, flushes and stops the engine).
func (s *Storage) Close() error { return s.Conn.Close() }

// loadSecrets reads the identifier key and the master keys from the
// environment or files. A key file that does not exist is left for the
// key guard (keys.go) to generate, if security.generate_keys allows it and
// nothing is stored yet; without generate_keys it is an error here, before
// the engine is opened. Previous master key files must exist.
func loadSecrets(cfg config.Config) (*secrets, error) {
	sec := cfg.Security
	generate := sec.GenerateKeys != nil && *sec.GenerateKeys
	out := &secrets{}
	var err error
	if sec.IdentifierKey != "" {
		out.idSource = "CUSTODY_IDENTIFIER_KEY"
		out.idKey, err = keyring.ParseSecret(sec.IdentifierKey)
		err = wrapSecret(out.idSource, err)
	} else {
		out.idSource, out.idFile = sec.IdentifierKeyFile, sec.IdentifierKeyFile
		out.idKey, out.idMissing, err = readKeyFile(sec.IdentifierKeyFile, generate)
	}
	if err != nil {
		return nil, err
	}
	if sec.MasterKey != "" {
		out.activeSource = "CUSTODY_MASTER_KEY"
		out.active, err = keyring.ParseMasterKey(sec.MasterKey)
		err = wrapSecret(out.activeSource, err)
	} else {
		out.activeSource, out.activeFile = sec.MasterKeyFile, sec.MasterKeyFile
		var raw []byte
		raw, out.activeMissing, err = readKeyFile(sec.MasterKeyFile, generate)
		if err == nil && !out.activeMissing {
			out.active, err = keyring.NewMasterKey(raw)
			clear(raw)
		}
	}
	if err != nil {
		clear(out.idKey)
		return nil, err
	}
	for _, p := range sec.PreviousMasterKeyFile {
		mk, _, err := keyring.LoadOrCreateKeyFile(p, false)
		if err != nil {
			clear(out.idKey)
			return nil, wrapSecret(p, err)
		}
		out.previous = append(out.previous, mk)
	}
	for i, v := range sec.PreviousMasterKeys {
		mk, err := keyring.ParseMasterKey(v)
		if err != nil {
			clear(out.idKey)
			return nil, wrapSecret(fmt.Sprintf("CUSTODY_PREVIOUS_MASTER_KEYS[%d]", i), err)
		}
		out.previous = append(out.previous, mk)
	}
	return out, nil
}

// readKeyFile reads a key file. A file that does not exist is reported
// missing when it may be generated, and is an error otherwise.
func readKeyFile(path string, generate bool) (secret []byte, missing bool, err error) {
	secret, _, err = keyring.LoadOrCreateSecret(path, false)
	if errors.Is(err, fs.ErrNotExist) && generate {
		return nil, true, nil
	}
	return secret, false, wrapSecret(path, err)
}

func wrapSecret(where string, err error) error {
	if err == nil {
		return nil
	}
	hint := ""
	if errors.Is(err, fs.ErrNotExist) {
		hint = " (restore it from your backup or provide it, e.g. in CUSTODY_MASTER_KEY / CUSTODY_IDENTIFIER_KEY; " +
			"only for a new installation with nothing stored yet, set security.generate_keys: true to create it)"
	}
	return fmt.Errorf("load secret from %s%s: %w", where, hint, err)
}
