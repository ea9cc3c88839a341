package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// fingerprintLabel domain-separates and versions key fingerprints.
const fingerprintLabel = "custody key fingerprint v1"

// FingerprintPrefix starts every fingerprint, naming its construction.
const FingerprintPrefix = "kfp1-"

// Fingerprint returns a non-secret name of a 32-byte secret (a master key,
// the identifier key): "kfp1-" and the first 16 bytes, in hex, of
// HMAC-SHA256 keyed by the secret over a fixed label. It can be stored and
// printed beside the data to tell later whether the same key is
// configured. It reveals nothing usable about the key: recovering the key
// from it means inverting HMAC-SHA256 over 256 random bits, and the label
// keeps it apart from every other use of the key (a master key's ID is a
// plain SHA-256 prefix). Equal secrets give equal fingerprints.
func Fingerprint(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(fingerprintLabel))
	return FingerprintPrefix + hex.EncodeToString(m.Sum(nil)[:16])
}

// Fingerprint is the key's Fingerprint ("" for the zero MasterKey). Unlike
// ID, which names the key in wrapped data keys and is only 32 bits, it is
// long enough to tell keys apart with certainty.
func (k MasterKey) Fingerprint() string {
	if k.m == nil {
		return ""
	}
	return Fingerprint(k.m.raw[:])
}
