package kafka_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/custodyhq/custody/internal/kafka"
)

// serverTLS makes a CA and a certificate for 127.0.0.1 signed by it; it
// returns the brokers' TLS configuration and the CA's PEM file.
func serverTLS(t *testing.T) (*tls.Config, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}, caFile
}

// Custody authenticates with SASL over TLS: SCRAM-SHA-512, SCRAM-SHA-256
// and PLAIN against kfake's server side, a password from a file included.
// A wrong password fails without the password in the error.
func TestSASL_AuthenticatesOverTLS(t *testing.T) {
	const password = "correct-horse-battery"
	srvTLS, caFile := serverTLS(t)
	c := newCluster(t, kfake.TLS(srvTLS), kfake.EnableSASL(),
		kfake.Superuser(kafka.MechanismSCRAMSHA512, "custody512", password),
		kfake.Superuser(kafka.MechanismSCRAMSHA256, "custody256", password),
		kfake.Superuser(kafka.MechanismPlain, "custodyplain", password))
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sasl kafka.SASL
		ok   bool
	}{
		{"SCRAM-SHA-512", kafka.SASL{Mechanism: kafka.MechanismSCRAMSHA512, Username: "custody512", Password: password}, true},
		{"SCRAM-SHA-512, password file", kafka.SASL{Mechanism: kafka.MechanismSCRAMSHA512, Username: "custody512", PasswordFile: pwFile}, true},
		{"SCRAM-SHA-256", kafka.SASL{Mechanism: kafka.MechanismSCRAMSHA256, Username: "custody256", Password: password}, true},
		{"PLAIN", kafka.SASL{Mechanism: kafka.MechanismPlain, Username: "custodyplain", Password: password}, true},
		{"wrong password", kafka.SASL{Mechanism: kafka.MechanismSCRAMSHA512, Username: "custody512", Password: "wrong-password-xyz"}, false},
		{"unknown user", kafka.SASL{Mechanism: kafka.MechanismSCRAMSHA512, Username: "nobody", Password: "wrong-password-xyz"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(c)
			cfg.TLS = kafka.TLS{CAFile: caFile}
			cfg.SASL = tt.sasl
			err := kafka.EnsureTopic(t.Context(), cfg, testLogger(t))
			if !tt.ok {
				if err == nil {
					t.Fatal("authenticated with a wrong password")
				}
				if testing.Verbose() {
					t.Logf("refused: %v", err)
				}
				if strings.Contains(err.Error(), tt.sasl.Password) {
					t.Fatalf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ensure topic: %v", err)
			}
			pub := newPublisher(t, cfg)
			if err := pub.Publish(cfg.Topic, message.NewMessage(tt.name, []byte("x"))); err != nil {
				t.Fatalf("publish: %v", err)
			}
			cfg.ConsumerGroup = "group-" + strings.ReplaceAll(tt.name, " ", "")
			mb := join(t, cfg)
			for {
				m := mb.next(t, 30*time.Second)
				m.Ack()
				if m.UUID == tt.name {
					break
				}
			}
		})
	}
}

func TestTLS_UnknownCAIsRefused(t *testing.T) {
	srvTLS, _ := serverTLS(t)
	_, otherCA := serverTLS(t)
	c := newCluster(t, kfake.TLS(srvTLS))
	cfg := testConfig(c)
	cfg.TLS = kafka.TLS{CAFile: otherCA}
	if err := kafka.EnsureTopic(t.Context(), cfg, testLogger(t)); err == nil {
		t.Fatal("connected to brokers whose certificate the configured CA did not sign")
	}
}
