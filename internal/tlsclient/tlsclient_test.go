package tlsclient

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files Files
		err   string
	}{
		{"nothing: system roots", Files{}, ""},
		{"missing CA file", Files{CAFile: filepath.Join(dir, "absent.pem")}, "CA file"},
		{"CA file without PEM", Files{CAFile: notPEM}, "no PEM certificate"},
		{"certificate without key", Files{CertFile: filepath.Join(dir, "c.pem")}, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := Config(tt.files)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.MinVersion != tls.VersionTLS12 || tc.RootCAs != nil || len(tc.Certificates) != 0 {
				t.Fatalf("unexpected configuration: min %x, roots %v, %d certificates", tc.MinVersion, tc.RootCAs, len(tc.Certificates))
			}
		})
	}
}
