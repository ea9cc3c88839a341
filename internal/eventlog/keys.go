package eventlog

import (
	"context"
	"fmt"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
)

// KeyStore keeps wrapped per-subject data keys in ClickHouse.
type KeyStore struct {
	conn clickhouse.Conn
	now  func() time.Time
	sql  migrate.SQLSet // the SQL for the configured tables; zero: single node
}

var _ keyring.BatchStore = (*KeyStore)(nil)

// NewKeyStore returns a keyring.Store on conn.
func NewKeyStore(conn clickhouse.Conn) *KeyStore {
	return &KeyStore{conn: conn, now: time.Now}
}

type keyRow struct {
	Tenant      string    `ch:"tenant"`
	SubjectKey  string    `ch:"subject_key"`
	KeyID       string    `ch:"key_id"`
	MasterKeyID string    `ch:"master_key_id"`
	Wrapped     []byte    `ch:"wrapped"`
	CreatedAt   time.Time `ch:"created_at"`
	Destroyed   uint8     `ch:"destroyed"`
	UpdatedAt   time.Time `ch:"updated_at"`
}

// Keys implements keyring.Store; it reads with FINAL, so a returned PutKey
// or Destroy is visible (read-your-writes on a single node; replicated
// setups need insert_quorum).
func (s *KeyStore) Keys(ctx context.Context, tenant, subjectKey string) ([]keyring.WrappedKey, error) {
	var rows []keyRow
	if err := s.conn.Select(ctx, &rows, s.sql.Of(querySubjectKeys), clickhouse.Params{"tenant": tenant, "subject": subjectKey}); err != nil {
		return nil, fmt.Errorf("read subject keys: %w", err)
	}
	return toWrapped(rows), nil
}

// KeysFor implements keyring.BatchStore: Keys for many subjects in one query.
func (s *KeyStore) KeysFor(ctx context.Context, tenant string, subjectKeys []string) ([]keyring.WrappedKey, error) {
	var rows []keyRow
	if err := s.conn.Select(ctx, &rows, s.sql.Of(querySubjectsKeys), clickhouse.Params{"tenant": tenant, "subjects": tsvLines(subjectKeys)}); err != nil {
		return nil, fmt.Errorf("read subject keys: %w", err)
	}
	return toWrapped(rows), nil
}

// PutKeys implements keyring.BatchStore: one insert for many keys.
func (s *KeyStore) PutKeys(ctx context.Context, keys []keyring.WrappedKey) error {
	now := s.now().UTC()
	rows := make([]keyRow, len(keys))
	for i, k := range keys {
		rows[i] = toKeyRow(k, now)
	}
	if err := s.insertKeys(ctx, rows); err != nil {
		return fmt.Errorf("store subject keys: %w", err)
	}
	return nil
}

func toWrapped(rows []keyRow) []keyring.WrappedKey {
	out := make([]keyring.WrappedKey, len(rows))
	for i, r := range rows {
		out[i] = keyring.WrappedKey{Tenant: r.Tenant, SubjectKey: r.SubjectKey, KeyID: r.KeyID,
			MasterKeyID: r.MasterKeyID, Wrapped: r.Wrapped, CreatedAt: r.CreatedAt.UTC(), Destroyed: r.Destroyed == 1}
	}
	return out
}

func toKeyRow(k keyring.WrappedKey, now time.Time) keyRow {
	row := keyRow{Tenant: k.Tenant, SubjectKey: k.SubjectKey, KeyID: k.KeyID, MasterKeyID: k.MasterKeyID,
		Wrapped: k.Wrapped, CreatedAt: k.CreatedAt, UpdatedAt: now}
	if k.Destroyed {
		row.Destroyed, row.Wrapped = 1, nil
	}
	return row
}

// PutKey implements keyring.Store.
func (s *KeyStore) PutKey(ctx context.Context, k keyring.WrappedKey) error {
	if err := s.insertKeys(ctx, []keyRow{toKeyRow(k, s.now().UTC())}); err != nil {
		return fmt.Errorf("store subject key: %w", err)
	}
	return nil
}

// Destroy implements keyring.Store: it writes a destroyed row for each key,
// then physically deletes the rows that held key material.
func (s *KeyStore) Destroy(ctx context.Context, tenant, subjectKey string) error {
	keys, err := s.Keys(ctx, tenant, subjectKey)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	var rows []keyRow
	for _, k := range keys {
		rows = append(rows, keyRow{Tenant: tenant, SubjectKey: subjectKey, KeyID: k.KeyID,
			MasterKeyID: k.MasterKeyID, CreatedAt: k.CreatedAt, Destroyed: 1, UpdatedAt: now})
	}
	if len(rows) == 0 {
		return nil
	}
	if err := s.insertKeys(ctx, rows); err != nil {
		return fmt.Errorf("mark subject keys destroyed: %w", err)
	}
	if err := s.conn.Exec(ctx, s.sql.Of(deleteSubjectKeyMaterial), clickhouse.Params{"tenant": tenant, "subject": subjectKey}); err != nil {
		return fmt.Errorf("delete subject key material: %w", err)
	}
	return nil
}
