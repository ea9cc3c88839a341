package identity

import (
	"crypto/hmac"
	"crypto/sha256"
)

// DeriveKey returns a 32-byte key for purpose, derived from the identifier
// key: HMAC-SHA256(key, "custody derived key\x00" + purpose). Every process
// of a deployment holds the identifier key (they must hash identifiers
// alike), so they derive the same key without another secret to
// distribute, and the identifier key itself keys nothing but identifier
// hashes (no derived input can collide with a hashed identifier: those are
// length-prefixed fields, never this prefix).
func (h *Hasher) DeriveKey(purpose string) []byte {
	mac := hmac.New(sha256.New, h.key)
	mac.Write([]byte("custody derived key\x00"))
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}
