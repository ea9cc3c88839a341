// Package tlsclient builds the TLS configuration of Custody's clients of
// other servers (ClickHouse's native protocol, Kafka): TLS 1.2 or later,
// the servers verified against a CA file when one is given (the system
// roots otherwise), and a client certificate when one is given.
package tlsclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Files are the PEM files of a client's TLS configuration; every one is
// optional, but CertFile and KeyFile go together.
type Files struct {
	CAFile   string
	CertFile string
	KeyFile  string
}

// Config reads the files and returns the configuration. Errors name the
// file ("CA file …", "certificate …") so callers can prefix their own
// configuration key.
func Config(f Files) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", f.CAFile)
		}
		tc.RootCAs = pool
	}
	if f.CertFile != "" || f.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("certificate %s with key %s: %w", f.CertFile, f.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
