package eventlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
)

// settingNoOptimizeOnInsert, set to 0, turns off the insert-time collapse of
// equal sort keys (see insertEvents).
const settingNoOptimizeOnInsert = "optimize_on_insert"

// Config configures a Log or KeyStore beyond its defaults.
type Config struct {
	// Tables names the tables to read and write: the Distributed tables of
	// a sharded cluster. The zero value is a single node or an unsharded
	// cluster.
	Tables migrate.Tables
}

// queries lists the package's SQL, rendered once per repository.
func queries() []string {
	return []string{queryKnownIDs, queryInternalByIdentifiers, queryInternalByIdentifiersTypes, queryByPerson, queryByPersonMany,
		queryOfTypes, queryScan, queryCount, queryCountAll, querySubjectKeys, querySubjectsKeys, deleteSubjectKeyMaterial}
}

// NewWithConfig is New with cfg: in sharded mode the log reads and appends
// through the Distributed tables, synchronously and with a deduplication
// token per batch (see insertEvents).
func NewWithConfig(conn clickhouse.Conn, hasher *identity.Hasher, keys *keyring.Keyring, cfg Config) *Log {
	l := New(conn, hasher, keys)
	l.sql = cfg.Tables.Render(queries()...)
	return l
}

// NewKeyStoreWithConfig is NewKeyStore with cfg.
func NewKeyStoreWithConfig(conn clickhouse.Conn, cfg Config) *KeyStore {
	s := NewKeyStore(conn)
	s.sql = cfg.Tables.Render(queries()...)
	return s
}

// insertEvents appends rows in one INSERT. On a replicated cluster it
// carries the batch's deduplication token: Append's contract has callers
// retry a failed batch whole, and a retry's rows differ in bytes (a new
// recorded_at, new encryption nonces), so only the token lets a Replicated
// table (on each shard, through events_all) recognise rows it already
// stored, and its views drop what they derived from them.
func (l *Log) insertEvents(ctx context.Context, rows []row) error {
	t := l.sql.Tables()
	token := "" // only Replicated tables use one; hashing every id costs ~0.5 µs an event
	if t.Replicated() {
		token = batchToken(rows)
	}
	settings := t.InsertSettings(token)
	if settings == nil {
		settings = clickhouse.Settings{}
	}
	// A ReplacingMergeTree collapses equal sort keys within an inserted
	// block unless told not to; Append has already dropped repeated ids
	// (the only rows that share a key), so that pass over every block (the
	// log's and its views') is wasted work: measured, 3 × 50,000-event
	// appends 64,400–65,400 → 70,000–71,400 events/s. Readers treat rows
	// as sets either way.
	settings[settingNoOptimizeOnInsert] = 0
	return l.conn.Insert(clickhouse.WithInsertSettings(ctx, settings), t.Name(tableEvents), rows)
}

// insertKeys writes data key rows; in sharded mode synchronously through
// subject_keys_all. Duplicate key rows collapse (ReplacingMergeTree by
// tenant, subject and key id), so they need no token.
func (s *KeyStore) insertKeys(ctx context.Context, rows []keyRow) error {
	t := s.sql.Tables()
	return s.conn.Insert(t.InsertContext(ctx, ""), t.Name(tableSubjectKeys), rows)
}

// batchToken is the insert deduplication token of a batch: SHA-256 over its
// (tenant, event id) pairs, sorted, so it depends on which events the batch
// stores, not on their order or on the bytes of a particular attempt.
func batchToken(rows []row) string {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.Tenant + "\x00" + r.EventID.String()
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	return "custody-events-" + hex.EncodeToString(h.Sum(nil))
}
