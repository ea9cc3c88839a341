package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
	"github.com/custodyhq/custody/internal/requests"
)

// Keys are never silently replaced. The fingerprints (keyring.Fingerprint)
// of the identifier key and of the active master key are recorded in
// key_fingerprints (schema/clickhouse/007_key_fingerprints.sql) at first
// start, and every later Open compares the configured keys with them
// before anything is read or written:
//
//   - a key file that is missing once data exists (fingerprints recorded, or
//     events, data keys or rejected events stored) is refused with
//     ErrKeyMissing: generation (security.generate_keys) only ever writes
//     keys into an empty installation;
//   - a key that differs from the recorded one is refused with
//     ErrKeyMismatch, except a rotation: an active master key that differs
//     from the recorded one while the recorded one is configured as a
//     previous master key is recorded as the new one (history is kept);
//   - an installation that predates the record (data, no fingerprints) gets
//     the fingerprints of the configured keys recorded once they are shown
//     to fit the data where that can be checked: one stored data key is
//     unwrapped with the master key, and the identifier hashes of a stored
//     rights request are recomputed with the identifier key (its request id
//     is stored in clear). What cannot be checked (no live data key, no
//     request) is recorded with a warning.
//
// The errors name the key, where it was configured, the recorded
// fingerprint and how to restore it.
var (
	// ErrKeyMissing: a key file is missing but the stored data was written
	// under a key; a new one is not generated.
	ErrKeyMissing = errors.New("refusing to start: a key of the stored data is missing")
	// ErrKeyMismatch: a configured key is not the one the stored data was
	// written under.
	ErrKeyMismatch = errors.New("refusing to start: a configured key is not the key of the stored data")
)

// The names of the recorded keys, and why a row was recorded.
const (
	keyIdentifier = "identifier"
	keyMaster     = "master"

	reasonFirstStart   = "first start"
	reasonExistingData = "existing data"
	reasonRotation     = "rotation"
)

// tableKeyFingerprints holds the recorded fingerprints.
const tableKeyFingerprints = "key_fingerprints"

const (
	queryRecordedKeys = `SELECT name, fingerprint, key_id, reason, recorded_at FROM {{table "key_fingerprints"}} ORDER BY recorded_at, name`
	// queryHasData: does anything hold data written under a key? Every
	// stored value needs a data key, every event an identifier hash.
	queryHasData = `SELECT count() AS n FROM (
    (SELECT 1 FROM {{table "events"}} LIMIT 1)
    UNION ALL (SELECT 1 FROM {{table "subject_keys"}} LIMIT 1)
    UNION ALL (SELECT 1 FROM {{table "rejected_events"}} LIMIT 1))`
	// queryRequestHashes: a few rights-request events, whose request id is
	// stored in clear and among their hashed identifiers.
	queryRequestHashes = `SELECT JSONExtractString(data, 'request_id') AS request_id, identifier_hashes
FROM {{table "events"}} WHERE startsWith(type, 'request.') LIMIT 3`
	// queryKeyPerMaster: one live data key under each master key id.
	queryKeyPerMaster = `SELECT tenant, subject_key, key_id, master_key_id
FROM {{table "subject_keys"}} FINAL WHERE destroyed = 0 LIMIT 1 BY master_key_id`
)

// fingerprintRow is a key_fingerprints row.
type fingerprintRow struct {
	Name        string    `ch:"name"`
	Fingerprint string    `ch:"fingerprint"`
	KeyID       string    `ch:"key_id"`
	Reason      string    `ch:"reason"`
	RecordedAt  time.Time `ch:"recorded_at"`
}

// describe names a recorded key for messages: "mk-1234abcd (kfp1-…,
// recorded 2026-03-01T12:00:00Z)".
func (r fingerprintRow) describe() string {
	at := r.RecordedAt.UTC().Format(time.RFC3339)
	if r.KeyID != "" {
		return fmt.Sprintf("%s (fingerprint %s, recorded %s)", r.KeyID, r.Fingerprint, at)
	}
	return fmt.Sprintf("%s (recorded %s)", r.Fingerprint, at)
}

// secrets are the keys configured, as loadSecrets found them: a key file
// that does not exist (and may be generated) leaves its key empty and its
// *Missing field set.
type secrets struct {
	idKey         []byte
	idSource      string // CUSTODY_IDENTIFIER_KEY or the file's path
	idFile        string // the file, when the key comes from one
	idMissing     bool
	active        keyring.MasterKey
	activeSource  string
	activeFile    string
	activeMissing bool
	previous      []keyring.MasterKey
}

// keyGuard checks the configured keys against the recorded ones, then
// records what is new.
type keyGuard struct {
	conn   clickhouse.Conn
	tables migrate.Tables
	sql    migrate.SQLSet
	log    *slog.Logger
	now    func() time.Time

	// Set by resolve, used by record.
	recorded map[string]fingerprintRow // the newest row of each name
	hasData  bool
	pending  []fingerprintRow
}

func newKeyGuard(conn clickhouse.Conn, tables migrate.Tables, log *slog.Logger) *keyGuard {
	return &keyGuard{conn: conn, tables: tables, log: log, now: time.Now,
		sql: tables.Render(queryRecordedKeys, queryHasData, queryRequestHashes, queryKeyPerMaster)}
}

// resolve reads what is recorded, generates the missing keys when the
// installation is empty (or refuses), and compares the keys with the
// recorded fingerprints. It fills sec's missing keys.
func (g *keyGuard) resolve(ctx context.Context, sec *secrets) error {
	var rows []fingerprintRow
	if err := g.conn.Select(ctx, &rows, g.sql.Of(queryRecordedKeys), nil); err != nil {
		return fmt.Errorf("read key fingerprints: %w", err)
	}
	g.recorded = map[string]fingerprintRow{}
	for _, r := range rows { // oldest first: the newest wins
		g.recorded[r.Name] = r
	}
	g.hasData = len(rows) > 0
	if !g.hasData {
		var n []struct {
			N uint64 `ch:"n"`
		}
		if err := g.conn.Select(ctx, &n, g.sql.Of(queryHasData), nil); err != nil {
			return fmt.Errorf("look for stored data: %w", err)
		}
		g.hasData = len(n) == 1 && n[0].N > 0
	}
	if err := g.generate(sec); err != nil {
		return err
	}

	at := g.now().UTC().Truncate(time.Millisecond)
	idFP := keyring.Fingerprint(sec.idKey)
	switch rec, ok := g.recorded[keyIdentifier]; {
	case !ok:
		g.pending = append(g.pending, fingerprintRow{Name: keyIdentifier, Fingerprint: idFP, RecordedAt: at})
	case rec.Fingerprint != idFP:
		return fmt.Errorf("%w: the identifier key from %s has fingerprint %s, but the stored data was written under identifier key %s: "+
			"with this key no stored person can be found. %s", ErrKeyMismatch, sec.idSource, idFP, rec.describe(), restoreIdentifier(sec, rec))
	}
	activeFP := sec.active.Fingerprint()
	masterRow := fingerprintRow{Name: keyMaster, Fingerprint: activeFP, KeyID: sec.active.ID, RecordedAt: at}
	switch rec, ok := g.recorded[keyMaster]; {
	case !ok:
		g.pending = append(g.pending, masterRow)
	case rec.Fingerprint == activeFP:
	case slices.ContainsFunc(sec.previous, func(k keyring.MasterKey) bool { return k.Fingerprint() == rec.Fingerprint }):
		masterRow.Reason = reasonRotation
		g.pending = append(g.pending, masterRow)
		g.log.InfoContext(ctx, "master key rotation: recording the new active master key", "previous", rec.KeyID, "active", sec.active.ID)
	default:
		return fmt.Errorf("%w: the master key from %s is %s (fingerprint %s), but the stored data keys are wrapped under master key %s: "+
			"with this key no stored value can be decrypted. %s", ErrKeyMismatch, sec.activeSource, sec.active.ID, activeFP, rec.describe(), restoreMaster(sec, rec))
	}
	reason := reasonFirstStart
	if g.hasData {
		reason = reasonExistingData
	}
	for i := range g.pending {
		if g.pending[i].Reason == "" {
			g.pending[i].Reason = reason
		}
	}
	return nil
}

// generate creates the missing key files when nothing is stored yet, and
// refuses otherwise.
func (g *keyGuard) generate(sec *secrets) error {
	if sec.idMissing {
		if g.hasData {
			rec, ok := g.recorded[keyIdentifier]
			return fmt.Errorf("%w: the identifier key file %s does not exist, but the stored data was written under %s: "+
				"without that key no stored person can be found, so no new key is generated. %s",
				ErrKeyMissing, sec.idFile, recordedOr(rec, ok, "identifier key", "an identifier key"), restoreIdentifier(sec, rec))
		}
		key, created, err := keyring.LoadOrCreateSecret(sec.idFile, true)
		if err != nil {
			return wrapSecret(sec.idFile, err)
		}
		if created {
			g.log.Warn("generated identifier key; back it up: without it no identifier can be looked up", "path", sec.idFile)
		}
		sec.idKey, sec.idMissing = key, false
	}
	if sec.activeMissing {
		if g.hasData {
			rec, ok := g.recorded[keyMaster]
			return fmt.Errorf("%w: the master key file %s does not exist, but the stored data keys are wrapped under %s: "+
				"without that key no stored value can be decrypted, so no new key is generated. %s",
				ErrKeyMissing, sec.activeFile, recordedOr(rec, ok, "master key", "a master key"), restoreMaster(sec, rec))
		}
		key, created, err := keyring.LoadOrCreateKeyFile(sec.activeFile, true)
		if err != nil {
			return wrapSecret(sec.activeFile, err)
		}
		if created {
			g.log.Warn("generated master key; back it up: without it no stored value can be decrypted", "path", sec.activeFile, "key_id", key.ID)
		}
		sec.active, sec.activeMissing = key, false
	}
	return nil
}

// recordedOr describes the recorded key ("master key mk-…"), or, when
// none was recorded (an installation from before the record), says so.
func recordedOr(rec fingerprintRow, ok bool, kind, aKind string) string {
	if ok {
		return kind + " " + rec.describe()
	}
	return aKind + " (no fingerprint was recorded: the data predates key fingerprints)"
}

// restoreIdentifier says how to give the identifier key back.
func restoreIdentifier(sec *secrets, rec fingerprintRow) string {
	how := "Set CUSTODY_IDENTIFIER_KEY to the original identifier key from your backup"
	if sec.idFile != "" {
		how = "Restore the original identifier key from your backup into " + sec.idFile + " (mode 0600), or set CUSTODY_IDENTIFIER_KEY to it"
	}
	return how + checkBackup(rec) + "; an identifier key cannot be replaced once data exists."
}

// restoreMaster says how to give the master key back, or rotate properly.
func restoreMaster(sec *secrets, rec fingerprintRow) string {
	how := "Set CUSTODY_MASTER_KEY to the original master key from your backup"
	if sec.activeFile != "" {
		how = "Restore the original master key from your backup into " + sec.activeFile + " (mode 0600), or set CUSTODY_MASTER_KEY to it"
	}
	return how + checkBackup(rec) + ". To rotate to a new master key, keep the old one configured in CUSTODY_PREVIOUS_MASTER_KEYS " +
		"(or security.previous_master_key_files) until custody keys rewrap has moved every data key."
}

// checkBackup tells how to find the backup holding the recorded key.
func checkBackup(rec fingerprintRow) string {
	if rec.Fingerprint == "" {
		return ""
	}
	return " (custody keys fingerprint FILE prints a key file's fingerprint: look for " + rec.Fingerprint + ")"
}

// record checks, for an installation that predates the record, that the
// keys fit the stored data, then records the pending fingerprints.
func (g *keyGuard) record(ctx context.Context, sec *secrets, keys *keyring.Keyring, hasher *identity.Hasher) error {
	if len(g.pending) == 0 {
		return nil
	}
	for _, p := range g.pending {
		if p.Reason != reasonExistingData {
			continue
		}
		var err error
		if p.Name == keyIdentifier {
			err = g.verifyIdentifier(ctx, sec, hasher)
		} else {
			err = g.verifyMaster(ctx, sec, keys)
		}
		if err != nil {
			return err
		}
	}
	if err := g.conn.Insert(g.tables.InsertContext(ctx, ""), g.tables.Name(tableKeyFingerprints), g.pending); err != nil {
		return fmt.Errorf("record key fingerprints: %w", err)
	}
	for _, p := range g.pending {
		g.log.InfoContext(ctx, "key fingerprint recorded", "key", p.Name, "fingerprint", p.Fingerprint, "key_id", p.KeyID, "reason", p.Reason)
	}
	return nil
}

// verifyIdentifier recomputes the hash of a stored rights request's id
// (its RequestIdentifier) with the identifier key.
func (g *keyGuard) verifyIdentifier(ctx context.Context, sec *secrets, hasher *identity.Hasher) error {
	var rows []struct {
		RequestID string   `ch:"request_id"`
		Hashes    []string `ch:"identifier_hashes"`
	}
	if err := g.conn.Select(ctx, &rows, g.sql.Of(queryRequestHashes), nil); err != nil {
		return fmt.Errorf("check the identifier key against stored data: %w", err)
	}
	checked := 0
	for _, r := range rows {
		if r.RequestID == "" {
			continue
		}
		ref, err := hasher.Ref(requests.RequestIdentifier(r.RequestID))
		if err != nil {
			continue
		}
		if slices.Contains(r.Hashes, ref.Hash) {
			return nil
		}
		checked++
	}
	if checked > 0 {
		return fmt.Errorf("%w: the identifier key from %s (fingerprint %s) did not hash the stored data: "+
			"the identifiers of stored rights requests do not match it, so no stored person could be found with it. %s",
			ErrKeyMismatch, sec.idSource, keyring.Fingerprint(sec.idKey), restoreIdentifier(sec, fingerprintRow{}))
	}
	g.log.WarnContext(ctx, "recording the identifier key of existing data unchecked: no stored rights request to check it against; "+
		"if people stored before cannot be found, restore the original identifier key", "source", sec.idSource)
	return nil
}

// verifyMaster unwraps a stored data key with the configured master keys.
func (g *keyGuard) verifyMaster(ctx context.Context, sec *secrets, keys *keyring.Keyring) error {
	var rows []struct {
		Tenant      string `ch:"tenant"`
		SubjectKey  string `ch:"subject_key"`
		KeyID       string `ch:"key_id"`
		MasterKeyID string `ch:"master_key_id"`
	}
	if err := g.conn.Select(ctx, &rows, g.sql.Of(queryKeyPerMaster), nil); err != nil {
		return fmt.Errorf("check the master key against stored data: %w", err)
	}
	if len(rows) == 0 {
		g.log.WarnContext(ctx, "recording the master key of existing data unchecked: no live data key to check it against", "key_id", sec.active.ID)
		return nil
	}
	configured := keys.MasterKeyIDs()
	var stored []string
	for _, r := range rows {
		stored = append(stored, r.MasterKeyID)
		if !slices.Contains(configured, r.MasterKeyID) {
			continue
		}
		_, err := keys.DataKey(ctx, r.Tenant, r.SubjectKey, r.KeyID)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, keyring.ErrKeyDestroyed), errors.Is(err, keyring.ErrKeyNotFound):
			continue // shredded meanwhile
		case errors.Is(err, keyring.ErrDecrypt):
			return fmt.Errorf("%w: the master key from %s is %s, but it cannot unwrap the stored data keys wrapped under that id. %s",
				ErrKeyMismatch, sec.activeSource, sec.active.ID, restoreMaster(sec, fingerprintRow{}))
		default:
			return fmt.Errorf("check the master key against stored data: %w", err)
		}
	}
	slices.Sort(stored)
	if slices.ContainsFunc(stored, func(id string) bool { return slices.Contains(configured, id) }) {
		g.log.WarnContext(ctx, "recording the master key of existing data unchecked: its data keys were shredded while checking", "key_id", sec.active.ID)
		return nil
	}
	return fmt.Errorf("%w: the stored data keys are wrapped under master keys %s, and none of them is configured (configured: %s): "+
		"no stored value can be decrypted. %s", ErrKeyMismatch, strings.Join(stored, ", "), strings.Join(configured, ", "), restoreMaster(sec, fingerprintRow{}))
}

// KeyFingerprint names a configured key without revealing it.
type KeyFingerprint struct {
	// Key is identifier, master (the active master key) or previous
	// master.
	Key string `json:"key"`
	// Source is the environment variable or the file the key comes from.
	Source string `json:"source"`
	// Fingerprint is keyring.Fingerprint of the key; empty when its file
	// does not exist.
	Fingerprint string `json:"fingerprint"`
	// MasterKeyID is a master key's id.
	MasterKeyID string `json:"masterKeyId,omitempty"`
}

// ConfiguredKeys returns the fingerprints of the keys cfg configures, read
// as Open reads them, but opening no storage and generating nothing: a key
// file that does not exist has no fingerprint.
func ConfiguredKeys(cfg config.Config) ([]KeyFingerprint, error) {
	yes := true
	cfg.Security.GenerateKeys = &yes // report missing files instead of failing
	sec, err := loadSecrets(cfg)
	if err != nil {
		return nil, err
	}
	defer clear(sec.idKey)
	id := KeyFingerprint{Key: "identifier", Source: sec.idSource}
	if !sec.idMissing {
		id.Fingerprint = keyring.Fingerprint(sec.idKey)
	}
	active := KeyFingerprint{Key: "master", Source: sec.activeSource}
	if !sec.activeMissing {
		active.Fingerprint, active.MasterKeyID = sec.active.Fingerprint(), sec.active.ID
	}
	out := []KeyFingerprint{id, active}
	sources := append(slices.Clone(cfg.Security.PreviousMasterKeyFile), previousEnvNames(len(cfg.Security.PreviousMasterKeys))...)
	for i, k := range sec.previous {
		out = append(out, KeyFingerprint{Key: "previous master", Source: sources[i], Fingerprint: k.Fingerprint(), MasterKeyID: k.ID})
	}
	return out, nil
}

// previousEnvNames names the previous master keys given in the
// environment, as loadSecrets does in its errors.
func previousEnvNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("CUSTODY_PREVIOUS_MASTER_KEYS[%d]", i)
	}
	return out
}
