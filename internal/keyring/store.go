package keyring

import (
	"context"
	"time"
)

// WrappedKey is a data key as persisted: the DEK encrypted under a master key.
// It contains no secret usable without that master key.
type WrappedKey struct {
	Tenant     string
	SubjectKey string
	// KeyID is random (16 hex digits) and unique per subject.
	KeyID string
	// MasterKeyID is the ID of the MasterKey that wrapped the DEK.
	MasterKeyID string
	// Wrapped is nonce(12) || AES-256-GCM(master, DEK) || tag(16), with
	// AAD binding Tenant, SubjectKey and KeyID (length-prefixed). Empty for a
	// destroyed key.
	Wrapped []byte
	// CreatedAt orders a subject's keys (oldest is the one DataKeyFor picks).
	// Keyring truncates it to milliseconds; stores must round-trip at least
	// millisecond precision (e.g. DateTime64(3, 'UTC')).
	CreatedAt time.Time
	// Destroyed marks a crypto-shredded key.
	Destroyed bool
}

// destroyed reports whether a stored row means "this key is gone".
func (w WrappedKey) destroyed() bool { return w.Destroyed || len(w.Wrapped) == 0 }

// Store persists wrapped keys (ClickHouse in production). Implementations must
// be safe for concurrent use. There are no transactions: the contracts below
// are all Keyring relies on.
type Store interface {
	// Keys returns every key ever stored for the subject, including destroyed
	// ones, in any order, each row carrying Tenant/SubjectKey/KeyID. It may
	// return several rows for one KeyID (e.g. unmerged ReplacingMergeTree
	// versions, or the old and new wrapping around a Rewrap); Keyring treats a
	// KeyID as destroyed if any of its rows is destroyed and otherwise
	// unwraps whichever row it has a master key for. A subject with no keys
	// gives an empty slice and a nil error.
	//
	// Read-your-writes: once PutKey or Destroy has returned nil, Keys (from
	// any process) reflects it (e.g. SELECT ... FINAL, or read all versions
	// and let Keyring reduce them, with insert_quorum / sequential
	// consistency on replicated setups).
	Keys(ctx context.Context, tenant, subjectKey string) ([]WrappedKey, error)

	// PutKey stores a key. It is idempotent: putting the same KeyID with the
	// same content again is harmless. Putting an existing KeyID with a
	// different MasterKeyID/Wrapped (a re-wrap after master-key rotation)
	// supersedes or sits beside the earlier row; both unwrap to the same
	// DEK. PutKey must never resurrect a destroyed key: a later Keys still
	// reports it destroyed (e.g. order ReplacingMergeTree versions so the
	// destroyed row always wins, or keep returning the destroyed row).
	PutKey(ctx context.Context, k WrappedKey) error

	// Destroy marks every key of the subject destroyed: a later Keys returns
	// them with Destroyed=true and/or Wrapped empty. It should write the
	// destroyed rows with Wrapped empty so that, once ClickHouse merges, the
	// wrapped DEKs are physically gone from the table. Destroying a subject
	// with no keys is not an error.
	Destroy(ctx context.Context, tenant, subjectKey string) error
}

// BatchStore is a Store that can read and write many subjects' keys in one
// round trip. Keyring.DataKeysFor uses it when the store offers it; the contracts
// are Keys' and PutKey's, for every subject at once.
type BatchStore interface {
	Store
	// KeysFor returns every key of the given subjects, like Keys for each.
	KeysFor(ctx context.Context, tenant string, subjectKeys []string) ([]WrappedKey, error)
	// PutKeys stores keys, like PutKey for each, in one write.
	PutKeys(ctx context.Context, keys []WrappedKey) error
}
