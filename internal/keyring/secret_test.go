package keyring

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestParseMasterKey(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i*7 + 250) // includes bytes that encode to + / - _
	}
	want, err := NewMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"std", base64.StdEncoding.EncodeToString(raw), ""},
		{"std raw", base64.RawStdEncoding.EncodeToString(raw), ""},
		{"url", base64.URLEncoding.EncodeToString(raw), ""},
		{"url raw", base64.RawURLEncoding.EncodeToString(raw), ""},
		{"whitespace", "  " + base64.StdEncoding.EncodeToString(raw) + "\n", ""},
		{"empty", "", "empty"},
		{"too short", base64.StdEncoding.EncodeToString(raw[:16]), "decodes to 16 bytes"},
		{"too long", base64.StdEncoding.EncodeToString(append(raw, 1)), "decodes to 33 bytes"},
		{"not base64", "this is not base64 at all!!", "not valid base64"},
		{"hex", hex.EncodeToString(raw), "decodes to 48 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMasterKey(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if tt.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
					t.Fatal("error echoes the secret input")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) || got.ID != want.ID {
				t.Fatalf("got %s, want %s", got, want)
			}
		})
	}
	sum := sha256Hex(raw)
	if want.ID != "mk-"+sum[:8] {
		t.Errorf("ID %s, want mk-%s", want.ID, sum[:8])
	}
}

func TestGenerateMasterKey(t *testing.T) {
	a, text, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseMasterKey(text)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equal(b) || a.ID != b.ID {
		t.Fatal("generated text does not parse back to the same key")
	}
	c, _, _ := GenerateMasterKey()
	if a.Equal(c) || a.ID == c.ID {
		t.Fatal("two generated keys are equal")
	}
}

func TestKeyFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets", "master.key")

	// Absent, no create.
	if _, _, err := LoadOrCreateKeyFile(path, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("absent without create: got %v, want fs.ErrNotExist", err)
	}

	// Create.
	mk, created, err := LoadOrCreateKeyFile(path, true)
	if err != nil || !created {
		t.Fatalf("create: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %#o, want 0600", perm)
	}
	di, _ := os.Stat(filepath.Dir(path))
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("key dir mode %#o, want 0700", perm)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}

	// Reload: same key, not created.
	again, created, err := LoadOrCreateKeyFile(path, true)
	if err != nil || created {
		t.Fatalf("reload: created=%v err=%v", created, err)
	}
	if !again.Equal(mk) || again.ID != mk.ID {
		t.Fatal("reloaded key differs")
	}
	// The file holds text ParseMasterKey accepts.
	text, _ := os.ReadFile(path)
	if p, err := ParseMasterKey(string(text)); err != nil || !p.Equal(mk) {
		t.Fatalf("file content does not parse: %v", err)
	}

	// Insecure modes are refused with the fix.
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run(fmt.Sprintf("%#o", mode), func(t *testing.T) {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(path, 0o600)
			_, _, err := LoadOrCreateKeyFile(path, true)
			if !errors.Is(err, ErrInsecureFile) || !strings.Contains(err.Error(), "chmod 600 "+path) {
				t.Fatalf("got %v, want ErrInsecureFile with chmod hint", err)
			}
		})
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(path, false); err != nil {
		t.Fatalf("0400 should be accepted: %v", err)
	}
}

func TestSecretFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secretText := "c2VjcmV0LXNob3J0LWJ1dC1ub3QtMzI="
	tests := []struct {
		name string
		path string
		want string
	}{
		{"wrong length", write("short", secretText), "decodes to 23 bytes"},
		{"garbage", write("garbage", "%%%not base64%%%"), "not valid base64"},
		{"empty", write("empty", "\n"), "empty"},
		{"too large", write("large", strings.Repeat("A", 5000)), "larger than"},
		{"directory", dir, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := LoadOrCreateSecret(tt.path, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secretText) || strings.Contains(err.Error(), "not base64%") {
				t.Fatal("error echoes file content")
			}
		})
	}
	if err := WriteSecretFile(filepath.Join(dir, "short"), make([]byte, 32)); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteSecretFile over existing file: got %v, want fs.ErrExist", err)
	}
	if err := WriteSecretFile(filepath.Join(dir, "x"), make([]byte, 31)); err == nil {
		t.Fatal("WriteSecretFile accepted a 31-byte secret")
	}
}

// The same helper stores other 32-byte secrets (identifier hashing key), and
// concurrent creators all end up with the same secret.
func TestLoadOrCreateSecretConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "id-hash.key")
	const n = 16
	secrets := make([][]byte, n)
	createdCount := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Go(func() {
			s, created, err := LoadOrCreateSecret(path, true)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			secrets[i] = s
			if created {
				createdCount++
			}
		})
	}
	wg.Wait()
	if createdCount != 1 {
		t.Errorf("%d goroutines report creating the file, want 1", createdCount)
	}
	for i := 1; i < n; i++ {
		if len(secrets[i]) != SecretSize || !bytes.Equal(secrets[i], secrets[0]) {
			t.Fatalf("goroutine %d got a different secret", i)
		}
	}
}

// forms lists textual encodings of secret bytes that must never appear in output.
func forms(raw []byte) []string {
	return []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		hex.EncodeToString(raw),
		strings.ToUpper(hex.EncodeToString(raw)),
		hex.EncodeToString(raw[:8]),
		fmt.Sprint(raw[:8]),        // [12 34 ...]
		fmt.Sprintf("%v", raw[:8]), // same, explicit
	}
}

func renderings(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %p"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	type holder struct {
		secret any
		Secret any
	}
	out["nested %+v"] = fmt.Sprintf("%+v", holder{v, v})
	out["nested %#v"] = fmt.Sprintf("%#v", holder{v, v})
	out["pointer %+v"] = fmt.Sprintf("%+v", &holder{v, v})
	out["slice"] = fmt.Sprint([]any{v})
	out["error"] = fmt.Errorf("wrap %v: %w", v, errors.New("x")).Error()
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		logger := slog.New(h(&buf))
		logger.Info("key", "k", v, slog.Any("any", v), slog.Group("g", "k", v))
		out[name] = buf.String()
	}
	return out
}

func TestKeysNeverPrintSecrets(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(200 + i)
	}
	mk, err := NewMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	// A data key with known bytes (newDataKey zeroes its input, so copy).
	dekRaw := bytes.Repeat([]byte{0xAB, 0x17, 0x42, 0x99}, 8)
	dk, err := newDataKey("0123456789abcdef", bytes.Clone(dekRaw))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		v      any
		raw    []byte
		wantID string
	}{
		{"MasterKey", mk, raw, mk.ID},
		{"*MasterKey", &mk, raw, mk.ID},
		{"DataKey", dk, dekRaw, "0123456789abcdef"},
		{"*DataKey", &dk, dekRaw, "0123456789abcdef"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for how, s := range renderings(c.v) {
				for _, f := range forms(c.raw) {
					if strings.Contains(s, f) {
						t.Errorf("%s output contains key bytes (%s): %s", how, f, s)
					}
				}
				if !strings.Contains(s, c.wantID) && !strings.HasPrefix(how, "%T") {
					t.Errorf("%s output lacks the id %s: %s", how, c.wantID, s)
				}
			}
		})
	}
	if got := mk.String(); got != mk.ID {
		t.Errorf("String() = %q, want %q", got, mk.ID)
	}
	if got := mk.LogValue().String(); got != mk.ID {
		t.Errorf("LogValue() = %q", got)
	}
}

func sha256Hex(b []byte) string {
	h := sha256Sum(b)
	return hex.EncodeToString(h[:])
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
