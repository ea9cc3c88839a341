package kafka

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// The SCRAM client side (RFC 5802, RFC 7677) that sarama asks for as a
// SCRAMClient: sarama speaks the SASL framing but leaves the mechanism to
// the application. Written against the RFC with the standard library; its
// tests run it against kfake's server side.
//
// Limits: no channel binding (Kafka offers none), and the password is used
// as given, without SASLprep: ASCII passwords, the usual generated ones,
// are unaffected.

type hashFunc func() hash.Hash

func sha256Hash() hash.Hash { return sha256.New() }
func sha512Hash() hash.Hash { return sha512.New() }

// scramIterationsMax refuses a server that asks for absurd key stretching
// (Kafka allows 4096..16384).
const scramIterationsMax = 1 << 20

// errSCRAM wraps every SCRAM failure; no message holds the password.
var errSCRAM = errors.New("kafka: scram")

type scramClient struct {
	h        hashFunc
	user     string
	password string
	authzID  string

	step        int
	nonce       string
	firstBare   string
	serverProof []byte
	done        bool
}

func newSCRAMClient(h hashFunc) *scramClient { return &scramClient{h: h} }

// Begin implements sarama.SCRAMClient.
func (c *scramClient) Begin(user, password, authzID string) error {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("%w: nonce: %w", errSCRAM, err)
	}
	*c = scramClient{h: c.h, user: user, password: password, authzID: authzID, nonce: base64.RawStdEncoding.EncodeToString(b)}
	return nil
}

// Step implements sarama.SCRAMClient: "" gives the client-first message,
// the server-first message gives the client-final one, and the
// server-final message is verified.
func (c *scramClient) Step(challenge string) (string, error) {
	c.step++
	switch c.step {
	case 1:
		c.firstBare = "n=" + saslName(c.user) + ",r=" + c.nonce
		return c.gs2Header() + c.firstBare, nil
	case 2:
		return c.final(challenge)
	case 3:
		if err := c.verify(challenge); err != nil {
			return "", err
		}
		c.done = true
		return "", nil
	}
	return "", fmt.Errorf("%w: unexpected step %d", errSCRAM, c.step)
}

// Done implements sarama.SCRAMClient.
func (c *scramClient) Done() bool { return c.done }

func (c *scramClient) gs2Header() string {
	if c.authzID == "" {
		return "n,,"
	}
	return "n,a=" + saslName(c.authzID) + ","
}

// final answers the server-first message with the client proof.
func (c *scramClient) final(serverFirst string) (string, error) {
	attrs, err := scramAttrs(serverFirst)
	if err != nil {
		return "", err
	}
	nonce, salt64, iter := attrs["r"], attrs["s"], attrs["i"]
	if !strings.HasPrefix(nonce, c.nonce) || len(nonce) == len(c.nonce) {
		return "", fmt.Errorf("%w: the server's nonce does not extend ours", errSCRAM)
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return "", fmt.Errorf("%w: bad salt from the server", errSCRAM)
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < 1 || n > scramIterationsMax {
		return "", fmt.Errorf("%w: bad iteration count %q from the server", errSCRAM, iter)
	}
	salted, err := pbkdf2.Key(c.h, c.password, salt, n, c.h().Size())
	if err != nil {
		return "", fmt.Errorf("%w: derive key: %w", errSCRAM, err)
	}
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(c.gs2Header())) + ",r=" + nonce
	authMessage := []byte(c.firstBare + "," + serverFirst + "," + withoutProof)

	clientKey := c.mac(salted, []byte("Client Key"))
	h := c.h()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	proof := c.mac(storedKey, authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	c.serverProof = c.mac(c.mac(salted, []byte("Server Key")), authMessage)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

// verify checks the server's signature: the server knew the password too.
func (c *scramClient) verify(serverFinal string) error {
	attrs, err := scramAttrs(serverFinal)
	if err != nil {
		return err
	}
	if e, ok := attrs["e"]; ok {
		return fmt.Errorf("%w: the server refused the authentication: %s", errSCRAM, e)
	}
	got, err := base64.StdEncoding.DecodeString(attrs["v"])
	if err != nil || subtle.ConstantTimeCompare(got, c.serverProof) != 1 {
		return fmt.Errorf("%w: the server's signature does not match (not the server that holds our credentials)", errSCRAM)
	}
	return nil
}

func (c *scramClient) mac(key, msg []byte) []byte {
	m := hmac.New(c.h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// scramAttrs parses "k=v,k=v" (values may contain '=').
func scramAttrs(msg string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(msg, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || len(k) != 1 {
			return nil, fmt.Errorf("%w: malformed server message", errSCRAM)
		}
		out[k] = v
	}
	return out, nil
}

// saslName escapes ',' and '=' in a user name (RFC 5802, section 5.1).
func saslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}
