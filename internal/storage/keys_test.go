package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/storage"
)

// recordedKey is a key_fingerprints row as a test reads it.
type recordedKey struct {
	Name        string `ch:"name"`
	Fingerprint string `ch:"fingerprint"`
	KeyID       string `ch:"key_id"`
	Reason      string `ch:"reason"`
}

func recordedKeys(t *testing.T, s *storage.Storage) []recordedKey {
	t.Helper()
	var rows []recordedKey
	if err := s.Conn.Select(context.Background(), &rows,
		"SELECT name, fingerprint, key_id, reason FROM key_fingerprints ORDER BY recorded_at, name", nil); err != nil {
		t.Fatalf("read key_fingerprints: %v", err)
	}
	return rows
}

// fileKey reads a key file: its fingerprint and, as a master key, its id.
func fileKey(t *testing.T, path string) (fingerprint, masterID string) {
	t.Helper()
	raw, err := keyring.ReadSecretFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mk, err := keyring.NewMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return keyring.Fingerprint(raw), mk.ID
}

// writeNewKey replaces path with a new random key.
func writeNewKey(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	secret, err := keyring.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.WriteSecretFile(path, secret); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_FirstStartRecordsTheKeyFingerprints(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	s := open(t, loadConfig(t, dir), &logs)
	master, identifier := keyPaths(dir)[0], keyPaths(dir)[1]
	idFP, _ := fileKey(t, identifier)
	masterFP, masterID := fileKey(t, master)

	got := recordedKeys(t, s)
	want := []recordedKey{
		{Name: "identifier", Fingerprint: idFP, Reason: "first start"},
		{Name: "master", Fingerprint: masterFP, KeyID: masterID, Reason: "first start"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("recorded %+v, want %+v", got, want)
	}
	for i, secret := range readFiles(t, keyPaths(dir)) {
		raw, err := keyring.ParseSecret(secret)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			if strings.Contains(r.Fingerprint, strings.TrimSpace(secret)) || strings.Contains(r.Fingerprint, string(raw)) {
				t.Fatalf("the fingerprint of key file %d holds its key", i)
			}
		}
	}
	if !strings.Contains(logs.String(), "key fingerprint recorded") {
		t.Errorf("the log does not say the fingerprints were recorded:\n%s", logs.String())
	}
}

// After a first start (which records the fingerprints) and one stored
// event, each case changes the keys and opens again.
func TestOpen_RefusesAMissingOrDifferentKeyOnceDataExists(t *testing.T) {
	chtest.RequireLibrary(t)
	tests := []struct {
		name string
		// change alters the keys; cfg is the configuration to open with.
		change func(t *testing.T, dir string, cfg *config.Config)
		wantIs error
		// wantErr returns what the error must say, given the original key
		// files' fingerprints and master id.
		wantErr func(dir, idFP, masterFP, masterID string) []string
		// wantNoFile is a key file that must not have been (re)created.
		wantNoFile string
	}{
		{
			name:   "same keys",
			change: func(*testing.T, string, *config.Config) {},
		},
		{
			name:   "identifier key file deleted",
			change: func(t *testing.T, dir string, _ *config.Config) { remove(t, keyPaths(dir)[1]) },
			wantIs: storage.ErrKeyMissing,
			wantErr: func(dir, idFP, _, _ string) []string {
				return []string{"identifier key file " + keyPaths(dir)[1] + " does not exist", idFP, "backup", "CUSTODY_IDENTIFIER_KEY"}
			},
			wantNoFile: "identifier.key",
		},
		{
			name:   "master key file deleted",
			change: func(t *testing.T, dir string, _ *config.Config) { remove(t, keyPaths(dir)[0]) },
			wantIs: storage.ErrKeyMissing,
			wantErr: func(dir, _, masterFP, masterID string) []string {
				return []string{"master key file " + keyPaths(dir)[0] + " does not exist", masterID, masterFP, "backup", "CUSTODY_MASTER_KEY"}
			},
			wantNoFile: "master.key",
		},
		{
			name:   "master key file swapped for another key",
			change: func(t *testing.T, dir string, _ *config.Config) { writeNewKey(t, keyPaths(dir)[0]) },
			wantIs: storage.ErrKeyMismatch,
			wantErr: func(dir, _, masterFP, masterID string) []string {
				return []string{"the master key from " + keyPaths(dir)[0], masterID, masterFP, "backup", "CUSTODY_PREVIOUS_MASTER_KEYS"}
			},
		},
		{
			name:   "identifier key file swapped for another key",
			change: func(t *testing.T, dir string, _ *config.Config) { writeNewKey(t, keyPaths(dir)[1]) },
			wantIs: storage.ErrKeyMismatch,
			wantErr: func(dir, idFP, _, _ string) []string {
				return []string{"the identifier key from " + keyPaths(dir)[1], idFP, "no stored person can be found", "backup"}
			},
		},
		{
			name: "another identifier key in CUSTODY_IDENTIFIER_KEY",
			change: func(t *testing.T, _ string, cfg *config.Config) {
				secret, _ := keyring.GenerateSecret()
				cfg.Security.IdentifierKey = keyring.EncodeSecret(secret)
			},
			wantIs: storage.ErrKeyMismatch,
			wantErr: func(_, idFP, _, _ string) []string {
				return []string{"the identifier key from CUSTODY_IDENTIFIER_KEY", idFP, "Set CUSTODY_IDENTIFIER_KEY"}
			},
		},
		{
			name: "master key file swapped, the original configured as previous",
			change: func(t *testing.T, dir string, cfg *config.Config) {
				old := filepath.Join(dir, "old-master.key")
				if err := os.Rename(keyPaths(dir)[0], old); err != nil {
					t.Fatal(err)
				}
				writeNewKey(t, keyPaths(dir)[0])
				cfg.Security.PreviousMasterKeyFile = []string{old}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, loadConfig(t, dir), nil)
			id := appendCollected(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			idFP, _ := fileKey(t, keyPaths(dir)[1])
			masterFP, masterID := fileKey(t, keyPaths(dir)[0])

			cfg := loadConfig(t, dir)
			tt.change(t, dir, &cfg)
			s, err := storage.Open(context.Background(), cfg, logger(nil))
			if tt.wantIs == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				t.Cleanup(func() { _ = s.Close() })
				wantReadable(t, s, id)
				return
			}
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			for _, want := range tt.wantErr(dir, idFP, masterFP, masterID) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if tt.wantNoFile != "" {
				if _, serr := os.Stat(filepath.Join(dir, "keys", tt.wantNoFile)); !errors.Is(serr, fs.ErrNotExist) {
					t.Errorf("%s was generated again (%v)", tt.wantNoFile, serr)
				}
			}
			t.Logf("refused: %v", err)
		})
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// A rotation is recorded, with its history, and the old key can then be
// dropped from the configuration; going back to the old key alone is
// refused.
func TestOpen_MasterKeyRotationIsRecorded(t *testing.T) {
	dir := t.TempDir()
	secret, err := keyring.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	idEnv := "CUSTODY_IDENTIFIER_KEY=" + keyring.EncodeSecret(secret)
	oldKey, oldText, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	newKey, newText, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, loadConfig(t, dir, idEnv, "CUSTODY_MASTER_KEY="+oldText), nil)
	id := appendCollected(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	s = open(t, loadConfig(t, dir, idEnv, "CUSTODY_MASTER_KEY="+newText, "CUSTODY_PREVIOUS_MASTER_KEYS="+oldText), &logs)
	wantReadable(t, s, id)
	got := recordedKeys(t, s)
	want := []recordedKey{
		{Name: "identifier", Fingerprint: keyring.Fingerprint(secret), Reason: "first start"},
		{Name: "master", Fingerprint: oldKey.Fingerprint(), KeyID: oldKey.ID, Reason: "first start"},
		{Name: "master", Fingerprint: newKey.Fingerprint(), KeyID: newKey.ID, Reason: "rotation"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("recorded %+v, want %+v", got, want)
	}
	if !strings.Contains(logs.String(), "master key rotation") {
		t.Errorf("the log does not mention the rotation:\n%s", logs.String())
	}
	// Complete the rotation, so that the new key alone reads everything.
	if _, err := s.Keyring.RewrapSubject(context.Background(), tenant, subjectOf(t, s)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, loadConfig(t, dir, idEnv, "CUSTODY_MASTER_KEY="+newText), nil)
	wantReadable(t, s, id)
	if n := len(recordedKeys(t, s)); n != 3 {
		t.Errorf("%d rows recorded after a start with the recorded keys, want still 3", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = storage.Open(context.Background(), loadConfig(t, dir, idEnv, "CUSTODY_MASTER_KEY="+oldText), logger(nil))
	if err == nil {
		_ = s.Close()
		t.Fatal("Open with the retired master key succeeded")
	}
	if !errors.Is(err, storage.ErrKeyMismatch) || !strings.Contains(err.Error(), newKey.ID) || !strings.Contains(err.Error(), "CUSTODY_MASTER_KEY") {
		t.Fatalf("error %q, want ErrKeyMismatch naming %s", err, newKey.ID)
	}
}

// subjectOf returns the subject key of the one stored event.
func subjectOf(t *testing.T, s *storage.Storage) string {
	t.Helper()
	var rows []struct {
		S string `ch:"subject_key"`
	}
	if err := s.Conn.Select(context.Background(), &rows, "SELECT subject_key FROM events LIMIT 1", nil); err != nil || len(rows) != 1 {
		t.Fatalf("subject of the stored event: %v %v", rows, err)
	}
	return rows[0].S
}

// Keys are generated whenever nothing is stored, even when the engine's
// files are already there (an installation whose data was never written,
// or a start that failed before recording its keys).
func TestOpen_GeneratesKeysWhenNothingIsStored(t *testing.T) {
	dir := t.TempDir()
	s := open(t, loadConfig(t, dir), nil)
	// Forget the first start entirely: nothing stored, nothing recorded.
	if err := s.Conn.Exec(context.Background(), "TRUNCATE TABLE key_fingerprints", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range keyPaths(dir) {
		remove(t, p)
	}
	var logs bytes.Buffer
	s = open(t, loadConfig(t, dir), &logs)
	for _, p := range keyPaths(dir) {
		if !strings.Contains(logs.String(), p) {
			t.Errorf("%s was not generated:\n%s", p, logs.String())
		}
	}
	if got := recordedKeys(t, s); len(got) != 2 || got[0].Reason != "first start" {
		t.Fatalf("recorded %+v, want both keys at first start", got)
	}
	wantReadable(t, s, appendCollected(t, s))
}

// appendRequest stores a rights request's event as the requests package
// writes it: the request id in its data and among its identifiers (alone,
// as in the steps after the opening, so that it is not Jane's).
func appendRequest(t *testing.T, s *storage.Storage) {
	t.Helper()
	rid := uuid.NewString()
	e := &event.Event{
		ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeRequestConfirmed, Source: "custody",
		Tenant: tenant, Time: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		Subject: event.Subject{Identifiers: []event.Identifier{requests.RequestIdentifier(rid)}},
		Data:    &event.Request{RequestID: rid},
	}
	if _, err := s.Events.Append(context.Background(), []*event.Event{e}); err != nil {
		t.Fatalf("append request: %v", err)
	}
}

// An installation from before the fingerprints (data stored, nothing
// recorded) records its keys once they are shown to fit the data, and
// refuses keys that do not.
func TestOpen_ExistingDataWithoutFingerprints(t *testing.T) {
	chtest.RequireLibrary(t)
	tests := []struct {
		name        string
		withRequest bool
		change      func(t *testing.T, dir string)
		wantIs      error
		wantErr     []string
		wantLog     string // on success
	}{
		{name: "same keys, a request to check the identifier key against", withRequest: true, change: func(*testing.T, string) {}},
		{name: "same keys, nothing to check the identifier key against", change: func(*testing.T, string) {},
			wantLog: "recording the identifier key of existing data unchecked"},
		{name: "another master key", change: func(t *testing.T, dir string) { writeNewKey(t, keyPaths(dir)[0]) },
			wantIs: storage.ErrKeyMismatch, wantErr: []string{"stored data keys are wrapped under master keys", "none of them is configured", "CUSTODY_PREVIOUS_MASTER_KEYS"}},
		{name: "another identifier key", withRequest: true, change: func(t *testing.T, dir string) { writeNewKey(t, keyPaths(dir)[1]) },
			wantIs: storage.ErrKeyMismatch, wantErr: []string{"identifier key from ", "rights requests do not match it", "CUSTODY_IDENTIFIER_KEY"}},
		{name: "identifier key file deleted", change: func(t *testing.T, dir string) { remove(t, keyPaths(dir)[1]) },
			wantIs: storage.ErrKeyMissing, wantErr: []string{"does not exist", "predates key fingerprints", "backup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, loadConfig(t, dir), nil)
			id := appendCollected(t, s)
			if tt.withRequest {
				appendRequest(t, s)
			}
			if err := s.Conn.Exec(context.Background(), "TRUNCATE TABLE key_fingerprints", nil); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			tt.change(t, dir)

			var logs bytes.Buffer
			s, err := storage.Open(context.Background(), loadConfig(t, dir), logger(&logs))
			if tt.wantIs == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				t.Cleanup(func() { _ = s.Close() })
				wantReadable(t, s, id)
				got := recordedKeys(t, s)
				if len(got) != 2 || got[0].Reason != "existing data" || got[1].Reason != "existing data" {
					t.Fatalf("recorded %+v, want both keys for existing data", got)
				}
				if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
					t.Errorf("log lacks %q:\n%s", tt.wantLog, logs.String())
				}
				if tt.wantLog == "" && strings.Contains(logs.String(), "unchecked") {
					t.Errorf("a key was recorded unchecked:\n%s", logs.String())
				}
				return
			}
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			t.Logf("refused: %v", err)
		})
	}
}

// In sharded mode the record is read and written through
// key_fingerprints_all, and the checks of existing data read through the
// Distributed tables: on a one-shard cluster (see the sharded repositories
// test), the first check records, another master key is refused, a
// rotation is recorded, and an installation from before the record is
// checked against its stored data keys.
func TestGuardKeys_ShardedModeWorksThroughDistributedTables(t *testing.T) {
	conn, sharded, _ := oneShardConn(t)
	ctx := context.Background()
	tables := sharded.Tables()
	recorded := func() []recordedKey {
		t.Helper()
		var rows []recordedKey
		if err := conn.Select(ctx, &rows, "SELECT name, fingerprint, key_id, reason FROM key_fingerprints_all ORDER BY recorded_at, name", nil); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	idKey, _ := keyring.GenerateSecret()
	a, _, _ := keyring.GenerateMasterKey()
	b, _, _ := keyring.GenerateMasterKey()

	keys, err := storage.GuardKeys(ctx, conn, tables, logger(nil), idKey, a)
	if err != nil {
		t.Fatalf("first check: %v", err)
	}
	if got := recorded(); len(got) != 2 || got[1].KeyID != a.ID || got[1].Reason != "first start" {
		t.Fatalf("recorded %+v", got)
	}
	if _, err := keys.DataKeyFor(ctx, tenant, "subject-1"); err != nil { // a data key under a, through subject_keys_all
		t.Fatal(err)
	}
	if _, err := storage.GuardKeys(ctx, conn, tables, logger(nil), idKey, b); !errors.Is(err, storage.ErrKeyMismatch) {
		t.Fatalf("another master key: %v, want ErrKeyMismatch", err)
	}
	if _, err := storage.GuardKeys(ctx, conn, tables, logger(nil), idKey, b, a); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	if got := recorded(); len(got) != 3 || got[2].KeyID != b.ID || got[2].Reason != "rotation" {
		t.Fatalf("recorded %+v", got)
	}

	// From before the record: the data key under a is checked.
	if err := conn.Exec(ctx, "TRUNCATE TABLE key_fingerprints", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.GuardKeys(ctx, conn, tables, logger(nil), idKey, b); !errors.Is(err, storage.ErrKeyMismatch) || !strings.Contains(err.Error(), a.ID) {
		t.Fatalf("existing data under %s, configured %s: %v, want ErrKeyMismatch naming %s", a.ID, b.ID, err, a.ID)
	}
	if _, err := storage.GuardKeys(ctx, conn, tables, logger(nil), idKey, b, a); err != nil {
		t.Fatalf("existing data under a previous key: %v", err)
	}
	if got := recorded(); len(got) != 2 || got[1].KeyID != b.ID || got[1].Reason != "existing data" {
		t.Fatalf("recorded %+v", got)
	}
}
