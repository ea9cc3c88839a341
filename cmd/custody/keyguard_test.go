package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/keyring"
)

// Deleting the identifier key of a node that holds data makes the next
// start fail, naming the key and the fingerprint to restore, instead of
// generating a new key (with which no stored person could be found).
func TestServe_RefusesToStartWithoutItsIdentifierKey(t *testing.T) {
	chtest.RequireLibrary(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	start(t, bin, dir).stop(t)

	keyFile := filepath.Join(dir, "keys", "identifier.key")
	backup := filepath.Join(t.TempDir(), "identifier.key")
	if err := os.Rename(keyFile, backup); err != nil {
		t.Fatal(err)
	}
	raw, err := keyring.ReadSecretFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	fp := keyring.Fingerprint(raw)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("serve without its identifier key: %v, want a non-zero exit\n%s", err, out)
	}
	for _, want := range []string{"identifier key file " + keyFile + " does not exist", fp, "backup", "CUSTODY_IDENTIFIER_KEY"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Error("a new identifier key was generated")
	}

	// The fingerprint the refusal names finds the backup.
	out, err = exec.Command(bin, "keys", "fingerprint", backup).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fp) {
		t.Fatalf("keys fingerprint %s: %v\n%s", backup, err, out)
	}
}

func TestKeysCmd_FingerprintOfFilesAndOfTheConfiguredKeys(t *testing.T) {
	t.Setenv("CUSTODY_CONFIG", "")
	t.Setenv("CUSTODY_MASTER_KEY", "")
	t.Setenv("CUSTODY_PREVIOUS_MASTER_KEYS", "")
	dir := t.TempDir()
	secret, err := keyring.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CUSTODY_IDENTIFIER_KEY", keyring.EncodeSecret(secret))
	file := filepath.Join(dir, "backup.key")
	master, text, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := keyring.ParseSecret(text)
	if err := keyring.WriteSecretFile(file, raw); err != nil {
		t.Fatal(err)
	}

	stdout, _, err := runKeysCmd(t, dir, "fingerprint", file)
	if err != nil || !strings.Contains(stdout, file) || !strings.Contains(stdout, master.Fingerprint()) || !strings.Contains(stdout, master.ID) {
		t.Fatalf("keys fingerprint FILE: %v\n%s", err, stdout)
	}
	// Without files: the configured keys, here the identifier key from the
	// environment and a master key file that does not exist yet; nothing
	// is created.
	stdout, _, err = runKeysCmd(t, dir, "fingerprint")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CUSTODY_IDENTIFIER_KEY", keyring.Fingerprint(secret), filepath.Join(dir, "keys", "master.key"), "(file does not exist)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("keys fingerprint lacks %q:\n%s", want, stdout)
		}
	}
	for _, s := range []string{keyring.EncodeSecret(secret), text} {
		if strings.Contains(stdout, s) {
			t.Fatal("keys fingerprint printed a key")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "keys")); err == nil {
		t.Error("keys fingerprint created key files")
	}
}
