package keyring

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
)

// DataKey is an unwrapped per-subject data encryption key (AES-256-GCM). Only
// its KeyID is ever printed or logged. The raw key bytes are zeroed as soon as
// the AES key schedule is built; a DataKey holds only the cipher. A DataKey is
// safe for concurrent use.
type DataKey struct {
	KeyID string
	m     *dataKeyMaterial
}

type dataKeyMaterial struct {
	aead cipher.AEAD // AES-256-GCM with random nonces
}

// Sealed is a value encrypted under a subject's data key.
type Sealed struct {
	// KeyID names the data key; store it next to the ciphertext.
	KeyID string
	// Ciphertext is nonce(12) || AES-256-GCM ciphertext || tag(16).
	Ciphertext []byte
}

// SealOverhead is how many bytes Seal adds to a plaintext.
const SealOverhead = 12 + 16

// newDataKey builds a DataKey from raw bytes and zeroes them.
func newDataKey(keyID string, raw []byte) (DataKey, error) {
	defer clear(raw)
	if len(raw) != SecretSize {
		return DataKey{}, fmt.Errorf("keyring: data key %s has %d bytes, want %d: %w", keyID, len(raw), SecretSize, ErrDecrypt)
	}
	aead, err := newAEAD(raw)
	if err != nil {
		return DataKey{}, err
	}
	return DataKey{KeyID: keyID, m: &dataKeyMaterial{aead: aead}}, nil
}

// IsZero reports whether k holds no key.
func (k DataKey) IsZero() bool { return k.m == nil }

// Seal encrypts plaintext with a fresh random nonce; aad (e.g. an event id) is
// authenticated but not stored and must be given again to Open. A key must not
// seal more than 2^32 values (random-nonce limit); per-subject keys stay far
// below that.
func (k DataKey) Seal(plaintext, aad []byte) (Sealed, error) {
	if k.m == nil {
		return Sealed{}, fmt.Errorf("keyring: seal with zero DataKey")
	}
	out := make([]byte, 0, len(plaintext)+SealOverhead)
	return Sealed{KeyID: k.KeyID, Ciphertext: k.m.aead.Seal(out, nil, plaintext, aad)}, nil
}

// Open decrypts s, which must have been sealed under k with the same aad.
// Any mismatch or tampering gives ErrDecrypt.
func (k DataKey) Open(s Sealed, aad []byte) ([]byte, error) {
	if k.m == nil {
		return nil, fmt.Errorf("keyring: open with zero DataKey")
	}
	if s.KeyID != k.KeyID {
		return nil, fmt.Errorf("keyring: value sealed under key %s, not %s: %w", s.KeyID, k.KeyID, ErrDecrypt)
	}
	if len(s.Ciphertext) < SealOverhead {
		return nil, fmt.Errorf("keyring: ciphertext too short (%d bytes): %w", len(s.Ciphertext), ErrDecrypt)
	}
	pt, err := k.m.aead.Open(nil, nil, s.Ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: open value under key %s: %w", k.KeyID, ErrDecrypt)
	}
	return pt, nil
}

// String returns the KeyID only.
func (k DataKey) String() string {
	if k.m == nil {
		return "dk-none"
	}
	return "dk-" + k.KeyID
}

// Format prints the KeyID for every fmt verb.
func (k DataKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue makes slog log the KeyID only.
func (k DataKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// wrapLabel domain-separates and versions the wrapping AAD.
const wrapLabel = "custody/keyring/wrap/v1"

// wrapAAD is label || len32(tenant) || tenant || len32(subject) || subject ||
// len32(keyID) || keyID, binding a wrapped key to its owner.
func wrapAAD(tenant, subjectKey, keyID string) []byte {
	b := make([]byte, 0, len(wrapLabel)+12+len(tenant)+len(subjectKey)+len(keyID))
	b = append(b, wrapLabel...)
	for _, s := range [...]string{tenant, subjectKey, keyID} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

func wrapDEK(mk MasterKey, tenant, subjectKey, keyID string, dek []byte) []byte {
	return mk.m.aead.Seal(nil, nil, dek, wrapAAD(tenant, subjectKey, keyID))
}

// unwrapDEK returns the raw DEK; the caller must clear it.
func unwrapDEK(mk MasterKey, tenant, subjectKey, keyID string, wrapped []byte) ([]byte, error) {
	dek, err := mk.m.aead.Open(nil, nil, wrapped, wrapAAD(tenant, subjectKey, keyID))
	if err != nil {
		return nil, fmt.Errorf("keyring: unwrap data key %s with master key %s: %w", keyID, mk.ID, ErrDecrypt)
	}
	if len(dek) != SecretSize {
		clear(dek)
		return nil, fmt.Errorf("keyring: unwrapped data key %s has %d bytes: %w", keyID, len(dek), ErrDecrypt)
	}
	return dek, nil
}

// newKeyID returns 16 random hex digits.
func newKeyID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (Go ≥ 1.24 crashes instead)
	return hex.EncodeToString(b[:])
}
