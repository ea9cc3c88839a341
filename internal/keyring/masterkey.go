package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
)

// MasterKey is a 32-byte key-encryption key from configuration. It wraps data
// keys and is never stored in the database.
//
// ID identifies it in wrapped keys ("mk-" + first 8 hex digits of the SHA-256
// of the key) and is safe to log. The key bytes sit behind a pointer and every
// printing path (String, all fmt verbs, slog, even reflection-based printing
// of a struct embedding it) shows only the ID.
type MasterKey struct {
	ID string
	m  *masterMaterial
}

type masterMaterial struct {
	raw  [SecretSize]byte
	aead cipher.AEAD // AES-256-GCM with random nonces
}

// NewMasterKey builds a MasterKey from 32 raw bytes (copied).
func NewMasterKey(raw []byte) (MasterKey, error) {
	if len(raw) != SecretSize {
		return MasterKey{}, fmt.Errorf("keyring: master key must be %d bytes, got %d", SecretSize, len(raw))
	}
	aead, err := newAEAD(raw)
	if err != nil {
		return MasterKey{}, err
	}
	m := &masterMaterial{aead: aead}
	copy(m.raw[:], raw)
	sum := sha256.Sum256(raw)
	return MasterKey{ID: "mk-" + hex.EncodeToString(sum[:4]), m: m}, nil
}

// ParseMasterKey decodes a master key from base64 (standard or URL-safe,
// padded or not) of exactly 32 bytes. Errors never include the input.
func ParseMasterKey(s string) (MasterKey, error) {
	raw, err := ParseSecret(s)
	if err != nil {
		return MasterKey{}, fmt.Errorf("keyring: parse master key: %w", err)
	}
	defer clear(raw)
	return NewMasterKey(raw)
}

// GenerateMasterKey returns a new random master key and its base64 text (the
// form ParseMasterKey and key files accept). The text is secret.
func GenerateMasterKey() (MasterKey, string, error) {
	raw, err := GenerateSecret()
	if err != nil {
		return MasterKey{}, "", err
	}
	defer clear(raw)
	k, err := NewMasterKey(raw)
	if err != nil {
		return MasterKey{}, "", err
	}
	return k, EncodeSecret(raw), nil
}

// LoadOrCreateKeyFile reads a master key file (base64 of 32 bytes, mode 0600).
// If the file is absent and create is true it generates a key and writes it
// atomically with mode 0600 (parent directories 0700), returning
// created=true. A file readable by group or others is refused with an error
// telling to chmod 600 it. See LoadOrCreateSecret.
func LoadOrCreateKeyFile(path string, create bool) (MasterKey, bool, error) {
	raw, created, err := LoadOrCreateSecret(path, create)
	if err != nil {
		return MasterKey{}, false, err
	}
	defer clear(raw)
	k, err := NewMasterKey(raw)
	if err != nil {
		return MasterKey{}, false, err
	}
	return k, created, nil
}

// IsZero reports whether k is the zero MasterKey (no key material).
func (k MasterKey) IsZero() bool { return k.m == nil }

// Equal reports whether k and o hold the same key bytes (constant time).
func (k MasterKey) Equal(o MasterKey) bool {
	if k.m == nil || o.m == nil {
		return k.m == o.m
	}
	return subtle.ConstantTimeCompare(k.m.raw[:], o.m.raw[:]) == 1
}

// String returns the key's ID only.
func (k MasterKey) String() string {
	if k.m == nil {
		return "mk-none"
	}
	return k.ID
}

// Format prints the ID for every fmt verb (including %#v, %x, %d).
func (k MasterKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue makes slog log the ID only.
func (k MasterKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// newAEAD returns AES-256-GCM with random 96-bit nonces: Seal output is
// nonce(12) || ciphertext || tag(16).
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return aead, nil
}
