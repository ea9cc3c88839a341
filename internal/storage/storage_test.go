package storage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/storage"
)

const tenant = "inkcartridges"

var (
	email = identity.Identifier{Kind: identity.Email, Value: "Jane@Example.com"}
	// card is the element value stored sealed and read back.
	card = json.RawMessage(`"4111 1111 1111 1111"`)
)

// loadConfig builds a configuration the way the process does, from
// CUSTODY_* variables, on the data directory dir.
func loadConfig(t *testing.T, dir string, env ...string) config.Config {
	t.Helper()
	cfg, err := config.Load("", append([]string{"CUSTODY_DATA_DIR=" + dir}, env...))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// open opens storage and closes it when the test ends (unless the test
// closed it first).
func open(t *testing.T, cfg config.Config, logs *bytes.Buffer) *storage.Storage {
	t.Helper()
	chtest.RequireLibrary(t)
	s, err := storage.Open(context.Background(), cfg, logger(logs))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func logger(buf *bytes.Buffer) *slog.Logger {
	if buf == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(buf, nil))
}

// appendCollected stores one data.collected event about email with the
// card number as a value.
func appendCollected(t *testing.T, s *storage.Storage) uuid.UUID {
	t.Helper()
	e := &event.Event{
		ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeCollected, Source: "checkout-service",
		Tenant: tenant, Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Subject: event.Subject{Identifiers: []event.Identifier{{Kind: email.Kind, Value: email.Value}}},
		Data: &event.Collected{
			Elements: []event.Element{{Name: "card", Category: "financial.card_number", Value: card}},
			Origin:   event.Origin{Kind: "consumer"}, Purposes: []string{"order_fulfilment"}, System: "orders-db",
		},
	}
	outcomes, err := s.Events.Append(context.Background(), []*event.Event{e})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if len(outcomes) != 1 || outcomes[0].String() != "stored" {
		t.Fatalf("append outcomes = %v, want stored", outcomes)
	}
	return e.ID
}

// wantReadable checks that the event id is found by the person's
// identifier and its value decrypts.
func wantReadable(t *testing.T, s *storage.Storage, id uuid.UUID) {
	t.Helper()
	lookup := identity.Identifier{Kind: identity.Email, Value: "jane@example.com"}
	recs, err := s.Events.ByPerson(context.Background(), tenant, logtest.Hashes(t, s.Hasher, lookup))
	if err != nil {
		t.Fatalf("read the person: %v", err)
	}
	if len(recs) != 1 || recs[0].Event.ID != id {
		t.Fatalf("read the person found %d records, want event %s", len(recs), id)
	}
	if recs[0].Shredded {
		t.Fatal("the value cannot be decrypted (record is shredded)")
	}
	c, ok := recs[0].Event.Data.(*event.Collected)
	if !ok || len(c.Elements) != 1 {
		t.Fatalf("read back data %#v, want one collected element", recs[0].Event.Data)
	}
	if got := string(c.Elements[0].Value); got != string(card) {
		t.Fatalf("read back value %s, want %s", got, card)
	}
}

func keyPaths(dir string) []string {
	return []string{filepath.Join(dir, "keys", "master.key"), filepath.Join(dir, "keys", "identifier.key")}
}

func readFiles(t *testing.T, paths []string) []string {
	t.Helper()
	out := make([]string, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

func TestOpen_FirstStartGeneratesPrivateKeysAndMigrates(t *testing.T) {
	dir := t.TempDir()
	cfg := loadConfig(t, dir)
	var logs bytes.Buffer
	s := open(t, cfg, &logs)

	for _, p := range keyPaths(dir) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("key file not generated: %v", err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", p, perm)
		}
		if !strings.Contains(logs.String(), p) {
			t.Errorf("the log does not say where %s was generated:\n%s", p, logs.String())
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "keys")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("keys directory: %v, mode %v; want it private to the owner", err, fi.Mode().Perm())
	}
	for _, secret := range readFiles(t, keyPaths(dir)) {
		if strings.Contains(logs.String(), strings.TrimSpace(secret)) {
			t.Fatal("the log carries generated key material")
		}
	}

	m, err := storage.Migrator(s.Conn, cfg, logger(nil))
	if err != nil {
		t.Fatal(err)
	}
	applied, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 || len(applied) != len(m.Migrations()) {
		t.Fatalf("%d migrations applied, want all %d", len(applied), len(m.Migrations()))
	}
	if pending, err := m.Up(context.Background()); err != nil || len(pending) != 0 {
		t.Fatalf("Up after Open applied %d (%v), want nothing pending", len(pending), err)
	}

	wantReadable(t, s, appendCollected(t, s))
}

func TestOpen_ReopeningTheSameDirectoryReusesTheKeys(t *testing.T) {
	dir := t.TempDir()
	cfg := loadConfig(t, dir)
	s := open(t, cfg, nil)
	id := appendCollected(t, s)
	before := readFiles(t, keyPaths(dir))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, loadConfig(t, dir), nil)
	if after := readFiles(t, keyPaths(dir)); after[0] != before[0] || after[1] != before[1] {
		t.Fatal("reopening replaced the key files")
	}
	wantReadable(t, s, id)
	if n, err := s.Events.Count(context.Background(), tenant); err != nil || n != 1 {
		t.Fatalf("count after reopen = %d, %v; want 1", n, err)
	}
}

func TestOpen_KeysFromTheEnvironmentWinOverFilesAndCreateNone(t *testing.T) {
	dir := t.TempDir()
	_, master, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	secret, err := keyring.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"CUSTODY_MASTER_KEY=" + master, "CUSTODY_IDENTIFIER_KEY=" + keyring.EncodeSecret(secret)}

	var logs bytes.Buffer
	s := open(t, loadConfig(t, dir, env...), &logs)
	id := appendCollected(t, s)
	if _, err := os.Stat(filepath.Join(dir, "keys")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("keys directory exists (%v); environment keys must create no files", err)
	}
	if strings.Contains(logs.String(), master) {
		t.Fatal("the log carries the master key")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Other keys in the default files: the environment still wins, so the
	// person is found and the value decrypts.
	for _, p := range keyPaths(dir) {
		other, err := keyring.GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		if err := keyring.WriteSecretFile(p, other); err != nil {
			t.Fatal(err)
		}
	}
	s = open(t, loadConfig(t, dir, env...), nil)
	wantReadable(t, s, id)
}

func TestOpen_PreviousMasterKeysStillDecryptAfterRotation(t *testing.T) {
	dir := t.TempDir()
	secret, err := keyring.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	identifierEnv := "CUSTODY_IDENTIFIER_KEY=" + keyring.EncodeSecret(secret)
	_, oldKey, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, loadConfig(t, dir, identifierEnv, "CUSTODY_MASTER_KEY="+oldKey), nil)
	id := appendCollected(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	oldFile := filepath.Join(t.TempDir(), "old-master.key")
	raw, err := keyring.ParseSecret(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.WriteSecretFile(oldFile, raw); err != nil {
		t.Fatal(err)
	}
	_, newKey, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, dir, identifierEnv, "CUSTODY_MASTER_KEY="+newKey)
	cfg.Security.PreviousMasterKeyFile = []string{oldFile}
	s = open(t, cfg, nil)
	wantReadable(t, s, id)
}

func TestOpen_RefusesSecretsItCannotTrust(t *testing.T) {
	chtest.RequireLibrary(t)
	invalid := "not base64 at all: ~~~secret-material~~~"
	short := keyring.EncodeSecret(make([]byte, 16))
	writeKey := func(t *testing.T, path string, mode fs.FileMode) {
		t.Helper()
		secret, err := keyring.GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		if err := keyring.WriteSecretFile(path, secret); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	noGenerate := func(cfg *config.Config, _ string) {
		no := false
		cfg.Security.GenerateKeys = &no
	}
	tests := []struct {
		name      string
		env       []string
		prepare   func(t *testing.T, dir string)
		tune      func(cfg *config.Config, dir string)
		wantErr   func(dir string) []string
		wantIs    error
		notInErr  []string
		wantFiles []string // relative to dir; nothing else may be created
	}{
		{
			name: "generate_keys false and no identifier key file", tune: noGenerate,
			wantErr: func(dir string) []string { return []string{filepath.Join(dir, "keys", "identifier.key")} },
			wantIs:  fs.ErrNotExist,
		},
		{
			name: "generate_keys false and no master key file", tune: noGenerate,
			prepare: func(t *testing.T, dir string) { writeKey(t, filepath.Join(dir, "keys", "identifier.key"), 0o600) },
			wantErr: func(dir string) []string { return []string{filepath.Join(dir, "keys", "master.key")} },
			wantIs:  fs.ErrNotExist, wantFiles: []string{"keys/identifier.key"},
		},
		{
			name:    "master key file readable by others",
			prepare: func(t *testing.T, dir string) { writeKey(t, filepath.Join(dir, "keys", "master.key"), 0o644) },
			wantErr: func(dir string) []string {
				p := filepath.Join(dir, "keys", "master.key")
				return []string{p, "chmod 600 " + p}
			},
			wantIs: keyring.ErrInsecureFile, wantFiles: []string{"keys/master.key", "keys/identifier.key"},
		},
		{
			name:    "identifier key file readable by group",
			prepare: func(t *testing.T, dir string) { writeKey(t, filepath.Join(dir, "keys", "identifier.key"), 0o640) },
			wantErr: func(dir string) []string {
				p := filepath.Join(dir, "keys", "identifier.key")
				return []string{"chmod 600 " + p}
			},
			wantIs: keyring.ErrInsecureFile, wantFiles: []string{"keys/identifier.key"},
		},
		{
			name: "previous master key file missing",
			tune: func(cfg *config.Config, dir string) {
				cfg.Security.PreviousMasterKeyFile = []string{filepath.Join(dir, "old", "master.key")}
			},
			wantErr:   func(dir string) []string { return []string{filepath.Join(dir, "old", "master.key")} },
			wantIs:    fs.ErrNotExist,
			wantFiles: []string{"keys/master.key", "keys/identifier.key"},
		},
		{
			name: "chdb library missing",
			env:  []string{"CUSTODY_CHDB_LIB=/nonexistent/libchdb.so"},
			wantErr: func(string) []string {
				return []string{"open clickhouse (embedded)", "/nonexistent/libchdb.so", "CUSTODY_CHDB_LIB"}
			},
			wantIs:    clickhouse.ErrUnavailable,
			wantFiles: []string{"keys/master.key", "keys/identifier.key"},
		},
		{
			name: "invalid base64 in CUSTODY_MASTER_KEY",
			env: []string{"CUSTODY_MASTER_KEY=" + invalid,
				"CUSTODY_IDENTIFIER_KEY=" + keyring.EncodeSecret(bytes.Repeat([]byte{7}, 32))},
			wantErr:  func(string) []string { return []string{"CUSTODY_MASTER_KEY", "base64"} },
			notInErr: []string{invalid, "secret-material"},
		},
		{
			name:     "invalid base64 in CUSTODY_IDENTIFIER_KEY",
			env:      []string{"CUSTODY_IDENTIFIER_KEY=" + invalid},
			wantErr:  func(string) []string { return []string{"CUSTODY_IDENTIFIER_KEY", "base64"} },
			notInErr: []string{invalid, "secret-material"},
		},
		{
			name: "CUSTODY_MASTER_KEY of 16 bytes",
			env: []string{"CUSTODY_MASTER_KEY=" + short,
				"CUSTODY_IDENTIFIER_KEY=" + keyring.EncodeSecret(bytes.Repeat([]byte{7}, 32))},
			wantErr:  func(string) []string { return []string{"CUSTODY_MASTER_KEY", "32 bytes"} },
			notInErr: []string{short},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			cfg := loadConfig(t, dir, tt.env...)
			if tt.tune != nil {
				tt.tune(&cfg, dir)
			}
			s, err := storage.Open(context.Background(), cfg, logger(nil))
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			for _, want := range tt.wantErr(dir) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			for _, secret := range tt.notInErr {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q echoes the secret", err)
				}
			}
			wantOnly(t, dir, tt.wantFiles)
		})
	}
}

// wantOnly checks that dir holds exactly the files named (relative, slash
// separated): a refused start must not open the engine or leave keys behind
// it was not asked to keep.
func wantOnly(t *testing.T, dir string, files []string) {
	t.Helper()
	want := map[string]bool{}
	for _, f := range files {
		want[f] = true
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !want[filepath.ToSlash(rel)] {
			t.Errorf("refused Open left %s behind", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
