package identity

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

var testKey = bytes.Repeat([]byte{0x42}, 32)

func newTestHasher(t *testing.T, key []byte) *Hasher {
	t.Helper()
	h, err := NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNewHasher_RejectsKeysShorterThan32Bytes(t *testing.T) {
	for _, n := range []int{0, 16, 31} {
		if _, err := NewHasher(make([]byte, n)); err == nil {
			t.Errorf("NewHasher(%d bytes): no error", n)
		}
	}
	for _, n := range []int{32, 64} {
		if _, err := NewHasher(make([]byte, n)); err != nil {
			t.Errorf("NewHasher(%d bytes): %v", n, err)
		}
	}
}

func TestHash_IsDeterministicHexAndKeyed(t *testing.T) {
	h1 := newTestHasher(t, testKey)
	h2 := newTestHasher(t, append([]byte(nil), testKey...))
	a := h1.Hash(Email, "", "jane@example.com")
	if b := h2.Hash(Email, "", "jane@example.com"); a != b {
		t.Fatalf("same key, same input: %s != %s", a, b)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a) {
		t.Fatalf("hash %q is not 64 lower-case hex digits", a)
	}
	other := newTestHasher(t, bytes.Repeat([]byte{0x43}, 32))
	if other.Hash(Email, "", "jane@example.com") == a {
		t.Fatal("different keys gave the same hash")
	}
}

func TestHash_KeyIsCopied(t *testing.T) {
	key := append([]byte(nil), testKey...)
	h := newTestHasher(t, key)
	before := h.Hash(UserID, "", "u1")
	key[0] ^= 0xff
	if h.Hash(UserID, "", "u1") != before {
		t.Fatal("changing the caller's key slice changed the Hasher")
	}
}

func TestHash_NoCollisionAcrossKindsNamespacesAndSplits(t *testing.T) {
	h := newTestHasher(t, testKey)
	inputs := []struct {
		kind      Kind
		namespace string
		value     string
	}{
		{UserID, "", "12345"},
		{CustomerID, "", "12345"},
		{AccountID, "", "12345"},
		{External, "crm", "12345"},
		{External, "billing", "12345"},
		{External, "a:b", "c"},
		{External, "a", "b:c"},
		{External, "ab", "c"},
		{External, "a", "bc"},
		{External, "", "a:bc"},
		{Kind("external:a"), "", "bc"},
	}
	seen := map[string]int{}
	for i, in := range inputs {
		got := h.Hash(in.kind, in.namespace, in.value)
		if j, dup := seen[got]; dup {
			t.Errorf("inputs %d and %d collide: %+v %+v", j, i, inputs[j], in)
		}
		seen[got] = i
	}
}

func TestRef_NormalisesBeforeHashing(t *testing.T) {
	h := newTestHasher(t, testKey)
	a, err := h.Ref(Identifier{Kind: Email, Value: " Jane@Example.com"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Ref(Identifier{Kind: Email, Value: "jane@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("refs differ: %v %v", a, b)
	}
	if _, err := h.Ref(Identifier{Kind: Phone, Value: "0701234567"}); err == nil {
		t.Fatal("Ref accepted a national phone number")
	}
}

func TestIdentifier_NeverPrintsOrLogsItsValue(t *testing.T) {
	id := Identifier{Kind: External, Namespace: "crm", Value: "secret-value-123"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		if out := fmt.Sprintf(verb, id); strings.Contains(out, "secret") || strings.Contains(out, fmt.Sprintf("%x", "secret")) {
			t.Errorf("fmt %s leaks the value: %s", verb, out)
		}
	}
	if out := fmt.Sprint([]Identifier{id}); strings.Contains(out, "secret") {
		t.Errorf("slice print leaks the value: %s", out)
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.LogAttrs(context.Background(), slog.LevelInfo, "x", slog.Any("id", id))
	if strings.Contains(buf.String(), "secret") || !strings.Contains(buf.String(), `"kind":"external"`) {
		t.Errorf("slog output = %s", buf.String())
	}
}

func TestHasher_NeverPrintsItsKey(t *testing.T) {
	h := newTestHasher(t, bytes.Repeat([]byte("k"), 32))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		if out := fmt.Sprintf(verb, h); strings.Contains(out, "kkkk") || strings.Contains(out, "6b6b6b") || strings.Contains(out, "107") {
			t.Errorf("fmt %s leaks the key: %s", verb, out)
		}
	}
}

func TestRefs_SubjectKeyIsTheSmallestHashInAnyOrder(t *testing.T) {
	h := newTestHasher(t, testKey)
	email := Identifier{Kind: Email, Value: "Jane@Example.com"}
	user := Identifier{Kind: UserID, Value: "u-1"}
	device := Identifier{Kind: DeviceID, Value: "d-9"}
	_, want, err := h.Refs([]Identifier{email, user, device})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ids     []Identifier
		subject string
		err     string
	}{
		{"reordered", []Identifier{device, email, user}, want, ""},
		{"one", []Identifier{email}, mustRef(t, h, email).Hash, ""},
		{"none", nil, "", "no identifiers"},
		{"bad second", []Identifier{email, {Kind: Email, Value: "not an address"}}, "", "subject.identifiers[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, subject, err := h.Refs(tt.ids)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "not an address") {
					t.Fatalf("the error shows the identifier's value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if subject != tt.subject || len(refs) != len(tt.ids) {
				t.Fatalf("subject %s with %d refs, want %s with %d", subject, len(refs), tt.subject, len(tt.ids))
			}
			for _, r := range refs {
				if r.Hash < subject {
					t.Fatalf("ref %s is smaller than the subject key %s", r.Hash, subject)
				}
			}
		})
	}
}

func mustRef(t *testing.T, h *Hasher, id Identifier) Ref {
	t.Helper()
	r, err := h.Ref(id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Stored hashes are joined on forever: the construction (HMAC-SHA256 over
// the domain, kind, namespace and value, each length-prefixed big-endian,
// lower-case hex) must never change. The expected values were computed
// outside Go (Python's hmac) from that description. Repeated calls check
// that reused HMAC states and buffers leave nothing behind.
func TestHash_IsThePublishedConstruction(t *testing.T) {
	h, err := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind      Kind
		namespace string
		value     string
		want      string
	}{
		{Email, "", "jane@example.com", "8db1cdf75fda61c14ef1ed5dfe10fcabcbbcca4540d5c25111ff9756d6af0a20"},
		{External, "crm", "C-42", "7738017301a418eb5abe2f89f27e8455e4b843d6d1c717b1750fde66ebbcb8ed"},
	}
	long := strings.Repeat("x", 5000) // grows a pooled buffer past its usual size
	for range 3 {
		for _, tt := range tests {
			if got := h.Hash(tt.kind, tt.namespace, tt.value); got != tt.want {
				t.Fatalf("Hash(%s, %q, %q) = %s, want %s", tt.kind, tt.namespace, tt.value, got, tt.want)
			}
			_ = h.Hash(External, "big", long)
		}
	}
}
