package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"sync"
)

// MinKeyLen is the shortest key NewHasher accepts, in bytes.
const MinKeyLen = 32

// hashDomain separates these hashes from any other use of the same key.
const hashDomain = "custody/identity/v1"

// Hasher pseudonymises normalised identifiers with HMAC-SHA256 under a secret
// key. The same key always gives the same hash, so hashes can be joined on;
// without the key they cannot be reversed by guessing likely emails or phone
// numbers. A Hasher is safe for concurrent use. It never prints its key.
type Hasher struct {
	key []byte
	// macs reuses HMAC states (*macState): hmac.New hashes the key pads
	// each time, which dominated bulk appends. Reset restores the keyed
	// state.
	macs sync.Pool
}

// macState is one reusable HMAC with the buffers a hash needs, so that a
// hash allocates only the string it returns (4 allocations, 288 bytes
// before).
type macState struct {
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
	hex [2 * sha256.Size]byte
}

// NewHasher returns a Hasher keyed with a copy of key, which must be at least
// 32 bytes of secret random data.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("identity: hash key is %d bytes; it must be at least %d random bytes", len(key), MinKeyLen)
	}
	h := &Hasher{key: append([]byte(nil), key...)}
	h.macs.New = func() any { return &macState{mac: hmac.New(sha256.New, h.key), in: make([]byte, 0, 128)} }
	return h, nil
}

// Hash returns the lower-case hex HMAC-SHA256 of an identifier. The value
// must already be normalised (Normalize); Hash does not check it. Kind,
// namespace and value are each length-prefixed before hashing, so no two
// different triples share an input ("a:b"+"c" and "a"+"b:c" differ).
func (h *Hasher) Hash(k Kind, namespace, normalizedValue string) string {
	st := h.macs.Get().(*macState)
	st.mac.Reset()
	b := st.in[:0]
	for _, f := range [...]string{hashDomain, string(k), namespace, normalizedValue} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	st.mac.Write(b)
	hex.Encode(st.hex[:], st.mac.Sum(st.sum[:0]))
	out := string(st.hex[:])
	// The buffer held the raw value: pooled memory keeps no identifier.
	clear(b)
	if cap(b) <= 1024 { // keep the buffer unless one huge value grew it
		st.in = b[:0]
	}
	h.macs.Put(st)
	return out
}

// Ref normalises id and returns its pseudonymous reference.
func (h *Hasher) Ref(id Identifier) (Ref, error) {
	n, err := id.Normalized()
	if err != nil {
		return Ref{}, err
	}
	return Ref{Kind: n.Kind, Namespace: n.Namespace, Hash: h.Hash(n.Kind, n.Namespace, n.Value)}, nil
}

// Refs hashes ids and returns their refs and the subject key: the smallest
// hash, so the same identifiers give the same key in any order. The log
// groups an event's rows under its subject key (and its data key), and
// Kafka partitions by it. An error names the position of the identifier
// that failed, never its value; no identifiers is an error.
func (h *Hasher) Refs(ids []Identifier) ([]Ref, string, error) {
	refs := make([]Ref, len(ids))
	subject := ""
	for i, id := range ids {
		ref, err := h.Ref(id)
		if err != nil {
			return nil, "", fmt.Errorf("subject.identifiers[%d]: %w", i, err)
		}
		refs[i] = ref
		if subject == "" || ref.Hash < subject {
			subject = ref.Hash
		}
	}
	if subject == "" {
		return nil, "", errors.New("no identifiers")
	}
	return refs, subject, nil
}

// String hides the key.
func (h *Hasher) String() string { return "identity.Hasher{key:[redacted]}" }

// Format makes every fmt verb print String.
func (h *Hasher) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(h.String())) }

// LogValue hides the key.
func (h *Hasher) LogValue() slog.Value { return slog.StringValue(h.String()) }

// Ref is an identifier as Custody stores it: kind, namespace and the keyed
// hash of the normalised value.
type Ref struct {
	Kind      Kind   `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Hash      string `json:"hash"`
}

// String returns "kind:hash" or "kind(namespace):hash".
func (r Ref) String() string {
	if r.Namespace != "" {
		return fmt.Sprintf("%s(%s):%s", r.Kind, r.Namespace, r.Hash)
	}
	return string(r.Kind) + ":" + r.Hash
}
