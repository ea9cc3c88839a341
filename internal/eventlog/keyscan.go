package eventlog

import (
	"context"
	"fmt"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/keyring"
)

// The SQL of master-key rotation over subject_keys (002_subject_keys.sql),
// with table names written as in queries.go ({{table}}, {{alter}}) and
// rendered for the KeyStore's tables. Every read is FINAL: subject_keys is
// a ReplacingMergeTree whose version column is `destroyed`, so FINAL yields
// each key's newest state with a destroyed row always winning over live
// ones. The filters on non-key columns (destroyed, wrapped, master_key_id)
// are in WHERE, never PREWHERE, so they apply to that newest state, not to
// the rows before merging: an unmerged older live row of a destroyed key is
// never listed. In sharded mode a subject's rows are on one shard, so FINAL
// per shard is FINAL overall, and ORDER BY … LIMIT merges the shards' pages.
//
// A live key is one with destroyed = 0 and wrapped bytes, as in
// keyring.WrappedKey.destroyed.
const (
	// queryKeysToRewrap pages through every tenant's live keys not under a
	// master key, by primary key. `tenant >= …` is implied by the tuple
	// comparison; it is spelled out so the primary-key index prunes.
	queryKeysToRewrap = `SELECT tenant, subject_key, key_id, master_key_id, wrapped, created_at, destroyed, updated_at
FROM {{table "subject_keys"}} FINAL
WHERE tenant >= {after_tenant:String}
  AND (tenant, subject_key, key_id) > ({after_tenant:String}, {after_subject:String}, {after_key:String})
  AND destroyed = 0 AND wrapped != '' AND master_key_id != {master:String}
ORDER BY tenant, subject_key, key_id
LIMIT {limit:UInt32}`

	// queryTenantKeysToRewrap is queryKeysToRewrap within one tenant.
	queryTenantKeysToRewrap = `SELECT tenant, subject_key, key_id, master_key_id, wrapped, created_at, destroyed, updated_at
FROM {{table "subject_keys"}} FINAL
WHERE tenant = {tenant:String}
  AND subject_key >= {after_subject:String}
  AND (subject_key, key_id) > ({after_subject:String}, {after_key:String})
  AND destroyed = 0 AND wrapped != '' AND master_key_id != {master:String}
ORDER BY tenant, subject_key, key_id
LIMIT {limit:UInt32}`

	// masterKeyUsageColumns counts each master key's keys, newest state of
	// each (FINAL); aggregated without a subquery, so that in sharded mode
	// every shard aggregates its own rows.
	masterKeyUsageColumns = `SELECT master_key_id,
       countIf(destroyed = 0 AND wrapped != '') AS live_keys,
       uniqExactIf((tenant, subject_key), destroyed = 0 AND wrapped != '') AS subjects,
       countIf(NOT (destroyed = 0 AND wrapped != '')) AS destroyed_keys
FROM {{table "subject_keys"}} FINAL`

	// queryMasterKeyUsage counts every tenant's keys per master key.
	queryMasterKeyUsage = masterKeyUsageColumns + `
GROUP BY master_key_id
ORDER BY master_key_id`

	// queryTenantMasterKeyUsage is queryMasterKeyUsage for one tenant.
	queryTenantMasterKeyUsage = masterKeyUsageColumns + `
WHERE tenant = {tenant:String}
GROUP BY master_key_id
ORDER BY master_key_id`

	// purgeKeyMaterial deletes the rows holding key material of some
	// destroyed keys of one subject; their destroyed markers stay. Unlike
	// deleteSubjectKeyMaterial it names the keys: a key created after the
	// shred is live and must survive.
	purgeKeyMaterial = `ALTER TABLE {{alter "subject_keys"}} DELETE
WHERE tenant = {tenant:String} AND subject_key = {subject:String} AND has({key_ids:Array(String)}, key_id) AND destroyed = 0
SETTINGS mutations_sync = 1`
)

// rotationQueries are this file's SQL, for tests that render every query.
func rotationQueries() []string {
	return []string{queryKeysToRewrap, queryTenantKeysToRewrap, queryMasterKeyUsage, queryTenantMasterKeyUsage, purgeKeyMaterial}
}

var _ keyring.RotationStore = (*KeyStore)(nil)

// KeysToRewrap implements keyring.RotationStore.
func (s *KeyStore) KeysToRewrap(ctx context.Context, p keyring.KeyPage) ([]keyring.WrappedKey, error) {
	if p.Limit <= 0 {
		return nil, fmt.Errorf("list keys to rewrap: limit must be > 0, got %d", p.Limit)
	}
	q, params := queryKeysToRewrap, clickhouse.Params{
		"after_tenant": p.After.Tenant, "after_subject": p.After.SubjectKey, "after_key": p.After.KeyID,
		"master": p.NotUnder, "limit": uint32(p.Limit),
	}
	if p.Tenant != "" {
		switch {
		case p.After.Tenant > p.Tenant:
			return nil, nil // past the tenant
		case p.After.Tenant < p.Tenant:
			params["after_subject"], params["after_key"] = "", "" // before it: from its start
		}
		q = queryTenantKeysToRewrap
		params["tenant"] = p.Tenant
		delete(params, "after_tenant")
	}
	var rows []keyRow
	if err := s.conn.Select(ctx, &rows, s.sql.Of(q), params); err != nil {
		return nil, fmt.Errorf("list keys to rewrap: %w", err)
	}
	return toWrapped(rows), nil
}

// MasterKeyUsage implements keyring.RotationStore.
func (s *KeyStore) MasterKeyUsage(ctx context.Context, tenant string) ([]keyring.MasterKeyUsage, error) {
	q, params := queryMasterKeyUsage, clickhouse.Params(nil)
	if tenant != "" {
		q, params = queryTenantMasterKeyUsage, clickhouse.Params{"tenant": tenant}
	}
	var rows []struct {
		MasterKeyID   string `ch:"master_key_id"`
		LiveKeys      uint64 `ch:"live_keys"`
		Subjects      uint64 `ch:"subjects"`
		DestroyedKeys uint64 `ch:"destroyed_keys"`
	}
	if err := s.conn.Select(ctx, &rows, s.sql.Of(q), params); err != nil {
		return nil, fmt.Errorf("count subject keys by master key: %w", err)
	}
	out := make([]keyring.MasterKeyUsage, len(rows))
	for i, r := range rows {
		out[i] = keyring.MasterKeyUsage{MasterKeyID: r.MasterKeyID, LiveKeys: r.LiveKeys, Subjects: r.Subjects, DestroyedKeys: r.DestroyedKeys}
	}
	return out, nil
}

// PurgeKeyMaterial implements keyring.RotationStore with a synchronous
// mutation.
func (s *KeyStore) PurgeKeyMaterial(ctx context.Context, tenant, subjectKey string, keyIDs []string) error {
	if len(keyIDs) == 0 {
		return nil
	}
	if err := s.conn.Exec(ctx, s.sql.Of(purgeKeyMaterial), clickhouse.Params{"tenant": tenant, "subject": subjectKey, "key_ids": keyIDs}); err != nil {
		return fmt.Errorf("purge subject key material: %w", err)
	}
	return nil
}
