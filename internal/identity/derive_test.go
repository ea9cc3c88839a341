package identity

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestDeriveKey_IsStablePerPurposeAndApartFromHashes(t *testing.T) {
	h, err := NewHasher(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	h2, err := NewHasher(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a, b := h.DeriveKey("broker batch mac v1"), h.DeriveKey("broker batch mac v1")
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Fatalf("not a stable 32-byte key: %x %x", a, b)
	}
	if bytes.Equal(a, h.DeriveKey("another purpose")) {
		t.Fatal("two purposes share a key")
	}
	if bytes.Equal(a, h2.DeriveKey("broker batch mac v1")) {
		t.Fatal("two identifier keys derive the same key")
	}
	if bytes.Contains(a, bytes.Repeat([]byte{1}, 32)) {
		t.Fatal("the derived key holds the identifier key")
	}
	ref, err := h.Ref(Identifier{Kind: CustomerID, Value: "broker batch mac v1"})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Hash == hex.EncodeToString(a) {
		t.Fatal("a derived key equals an identifier hash")
	}
}
