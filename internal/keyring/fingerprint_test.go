package keyring

import (
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

// The construction is pinned: fingerprints are recorded in storage, and a
// change would make every installation refuse its own keys.
func TestFingerprint_IsThePublishedConstruction(t *testing.T) {
	key := make([]byte, SecretSize)
	for i := range key {
		key[i] = byte(i)
	}
	// HMAC-SHA256(key, "custody key fingerprint v1"), first 16 bytes.
	if got, want := Fingerprint(key), "kfp1-a2547b2b3e6ad3f0979b35bdaed1e5e1"; got != want {
		t.Fatalf("Fingerprint = %s, want %s", got, want)
	}
	mk, err := NewMasterKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if mk.Fingerprint() != Fingerprint(key) {
		t.Errorf("MasterKey.Fingerprint %s differs from Fingerprint of its bytes", mk.Fingerprint())
	}
	if (MasterKey{}).Fingerprint() != "" {
		t.Error("the zero MasterKey has a fingerprint")
	}
}

func TestFingerprint_TellsKeysApartAndHoldsNoKeyMaterial(t *testing.T) {
	format := regexp.MustCompile(`^kfp1-[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 50 {
		key, err := GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		fp := Fingerprint(key)
		if !format.MatchString(fp) {
			t.Fatalf("fingerprint %q does not match %s", fp, format)
		}
		if fp != Fingerprint(append([]byte(nil), key...)) {
			t.Fatal("fingerprint is not deterministic")
		}
		if seen[fp] {
			t.Fatal("two keys share a fingerprint")
		}
		seen[fp] = true
		mk, _ := NewMasterKey(key)
		hexKey := hex.EncodeToString(key)
		for _, part := range []string{hexKey[:8], EncodeSecret(key)[:8], strings.TrimPrefix(mk.ID, "mk-")} {
			if strings.Contains(fp, part) {
				t.Fatalf("fingerprint %s contains %q (key bytes, their base64, or the master key id)", fp, part)
			}
		}
	}
}
