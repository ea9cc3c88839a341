package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/storage"
)

// runKeysCmd runs custody keys with args on dataDir and returns stdout,
// stderr and the error.
func runKeysCmd(t *testing.T, dataDir string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newKeys(&globalFlags{dataDir: dataDir})
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// masterKeyText returns a new master key's id and its base64 text.
func masterKeyText(t *testing.T) (string, string) {
	t.Helper()
	mk, text, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return mk.ID, text
}

// seedPeople appends a collected event with a value for each email, in
// tenant acme, and returns each person's subject key.
func seedPeople(t *testing.T, dataDir string, emails ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	subjects := map[string]string{}
	err := (&globalFlags{dataDir: dataDir}).withStorage(ctx, func(_ config.Config, st *storage.Storage) error {
		for _, email := range emails {
			id := event.Identifier{Kind: identity.Email, Value: email}
			e := &event.Event{ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeCollected, Source: "checkout-service",
				Tenant: "acme", Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Subject: event.Subject{Identifiers: []event.Identifier{id}},
				Data: &event.Collected{Elements: []event.Element{{Name: "email", Category: "contact.email", Value: json.RawMessage(fmt.Sprintf("%q", email))}},
					Origin: event.Origin{Kind: "consumer"}, Purposes: []string{"order_fulfilment"}, System: "orders-db"}}
			if _, err := st.Events.Append(ctx, []*event.Event{e}); err != nil {
				return err
			}
			recs, err := st.Events.ByPerson(ctx, "acme", logtest.Hashes(t, st.Hasher, id))
			if err != nil || len(recs) != 1 {
				return fmt.Errorf("read back %s: %d events, %v", email, len(recs), err)
			}
			subjects[email] = recs[0].SubjectKey
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return subjects
}

// TestKeysCmd_RotationEndToEnd is the operator's rotation, command by
// command, on the embedded engine.
func TestKeysCmd_RotationEndToEnd(t *testing.T) {
	chtest.RequireLibrary(t)
	t.Setenv("CUSTODY_CONFIG", "")
	t.Setenv("CUSTODY_PREVIOUS_MASTER_KEYS", "")
	dir := t.TempDir()
	oldID, oldKey := masterKeyText(t)
	newID, newKey := masterKeyText(t)

	// Three people under the old master key; one of them erased.
	t.Setenv("CUSTODY_MASTER_KEY", oldKey)
	subjects := seedPeople(t, dir, "ann@example.com", "bob@example.com", "eve@example.com")
	err := (&globalFlags{dataDir: dir}).withStorage(context.Background(), func(_ config.Config, st *storage.Storage) error {
		return st.Events.Shred(context.Background(), "acme", subjects["eve@example.com"])
	})
	if err != nil {
		t.Fatal(err)
	}

	// The rotation: new key active, old key previous.
	t.Setenv("CUSTODY_MASTER_KEY", newKey)
	t.Setenv("CUSTODY_PREVIOUS_MASTER_KEYS", oldKey)
	var outputs strings.Builder
	steps := []struct {
		args    []string
		want    []string
		wantErr string // on stderr: the progress bar
	}{
		{[]string{"status"}, []string{
			"MASTER KEY", newID + "  active", oldID + "  previous",
			"no (run custody keys rewrap)",
			"2 live data keys are not under the active master key " + newID + ": run custody keys rewrap.",
		}, ""},
		{[]string{"rewrap", "--dry-run"}, []string{
			"Dry run: would re-wrap 2 data keys of 2 subjects under " + newID, "Nothing was written.",
		}, "rewrap (dry run): done, 2/2 keys"},
		{[]string{"status"}, []string{"2 live data keys are not under the active master key"}, ""},
		{[]string{"rewrap", "--batch", "1"}, []string{
			"Re-wrapped 2 data keys of 2 subjects under " + newID,
			"Rotation complete: every live data key is under the active master key " + newID + ".",
			oldID + " wraps no live data key: remove it from CUSTODY_PREVIOUS_MASTER_KEYS (or security.previous_master_key_files), restart, then destroy it.",
		}, "rewrap: done, 2/2 keys"},
		{[]string{"rewrap"}, []string{"Nothing to re-wrap: every live data key is already under " + newID + "."}, "rewrap: done, 0 keys"},
		{[]string{"status"}, []string{"Rotation complete", oldID + " wraps no live data key: remove it from CUSTODY_PREVIOUS_MASTER_KEYS"}, ""},
	}
	for _, s := range steps {
		stdout, stderr, err := runKeysCmd(t, dir, s.args...)
		if err != nil {
			t.Fatalf("keys %v: %v\n%s%s", s.args, err, stdout, stderr)
		}
		fmt.Fprintf(&outputs, "$ custody keys %s\n%s%s", strings.Join(s.args, " "), stderr, stdout)
		if !strings.Contains(stderr, s.wantErr) {
			t.Fatalf("keys %v: stderr lacks %q:\n%s", s.args, s.wantErr, stderr)
		}
		for _, w := range s.want {
			if !strings.Contains(stdout, w) {
				t.Fatalf("keys %v: output lacks %q:\n%s", s.args, w, stdout)
			}
		}
		for _, secret := range []string{oldKey, newKey} {
			if strings.Contains(stdout+stderr, secret) {
				t.Fatalf("keys %v printed a master key", s.args)
			}
		}
	}
	t.Logf("outputs:\n%s", outputs.String())

	stdout, _, err := runKeysCmd(t, dir, "status", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st keyring.RotationStatus
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, stdout)
	}
	if !st.Complete || st.Active != newID || len(st.MasterKeys) != 2 || st.MasterKeys[1].ID != oldID ||
		!st.MasterKeys[1].Retirable || st.MasterKeys[1].DestroyedKeys != 1 || st.MasterKeys[0].LiveKeys != 2 {
		t.Fatalf("status --json: %s", stdout)
	}
	t.Logf("$ custody keys status --json\n%s", stdout)
	stdout, _, err = runKeysCmd(t, dir, "rewrap", "--json", "--tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	var rw struct {
		Active    string                  `json:"active"`
		Rewrapped *int                    `json:"rewrapped"`
		Seconds   *float64                `json:"seconds"`
		Status    *keyring.RotationStatus `json:"status"`
	}
	if err := json.Unmarshal([]byte(stdout), &rw); err != nil || rw.Active != newID || rw.Rewrapped == nil || *rw.Rewrapped != 0 ||
		rw.Seconds == nil || rw.Status == nil || !rw.Status.Complete {
		t.Fatalf("rewrap --json: %v\n%s", err, stdout)
	}
	t.Logf("$ custody keys rewrap --json --tenant acme\n%s", stdout)

	// The old key removed: every value still reads, and the erased person's
	// stay unreadable.
	t.Setenv("CUSTODY_PREVIOUS_MASTER_KEYS", "")
	err = (&globalFlags{dataDir: dir}).withStorage(context.Background(), func(_ config.Config, st *storage.Storage) error {
		page, _, err := st.Events.Scan(context.Background(), eventlog.Cursor{}, 100)
		if err != nil {
			return err
		}
		if len(page) != 3 {
			return fmt.Errorf("read %d events, want 3", len(page))
		}
		for _, r := range page {
			v := r.Event.Data.ValueSlots()[0].Value
			if erased := r.SubjectKey == subjects["eve@example.com"]; erased != r.Shredded || erased == (len(v) > 0) {
				return fmt.Errorf("event of %s: shredded %t, value %s", r.SubjectKey, r.Shredded, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read with the new master key only: %v", err)
	}
}

func TestKeysCmd_RejectsBadFlagsNamingThem(t *testing.T) {
	t.Setenv("CUSTODY_CONFIG", "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"rewrap", "--batch", "0"}, "--batch 0: must be between 1 and 100000"},
		{[]string{"rewrap", "--batch", "100001"}, "--batch 100001: must be between 1 and 100000"},
		{[]string{"rewrap", "--batch", "many"}, `invalid argument "many" for "--batch"`},
		{[]string{"rewrap", "everything"}, `unknown command "everything"`},
		{[]string{"status", "--tenant", "acme"}, "unknown flag: --tenant"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runKeysCmd(t, t.TempDir(), tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestKeysCmd_HelpOnEverySubcommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"status", "--help"}, {"rewrap", "--help"}} {
		stdout, _, err := runKeysCmd(t, t.TempDir(), args...)
		if err != nil || !strings.Contains(stdout, "Usage:") || !strings.Contains(stdout, "custody keys") {
			t.Fatalf("keys %v: %v\n%s", args, err, stdout)
		}
	}
}
