package rejected

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
)

// Status is where a rejection stands.
type Status string

const (
	// StatusRejected: stored, not replayed yet.
	StatusRejected Status = "rejected"
	// StatusReplayed: a replay handed the event to the sink, which took it
	// (or already had it).
	StatusReplayed Status = "replayed"
	// StatusStillRejected: a replay found the event still invalid; Errors
	// are the errors of that replay.
	StatusStillRejected Status = "still_rejected"
)

// Statuses lists every status.
func Statuses() []Status { return []Status{StatusRejected, StatusReplayed, StatusStillRejected} }

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// Stages: where an event was rejected.
const (
	// StageHTTP: POST /v1/events found it invalid.
	StageHTTP = "http"
	// StagePipeline: the ingest pipeline could not process it (poison).
	StagePipeline = "pipeline"
)

// Limits of Filter.Limit.
const (
	DefaultLimit = 100
	MaxLimit     = 10_000
)

// ErrNotFound: no rejection has that id.
var ErrNotFound = errors.New("rejected: no such rejection")

// Rejection is one refused event: why it was refused, and what was sent.
type Rejection struct {
	ID     uuid.UUID
	Tenant string // the event's tenant when readable, else event.DefaultTenant
	At     time.Time
	Stage  string // StageHTTP or StagePipeline
	// Index is the event's position in the batch it arrived in.
	Index int
	// EventID is the id as sent (may be missing or invalid), EventType the
	// type as sent when it was readable.
	EventID   string
	EventType string
	// Errors are the field errors of the rejection, or of the last replay
	// when Status is StatusStillRejected.
	Errors []event.FieldError
	// Payload is the event's bytes as received, or their first
	// Limits.MaxPayloadBytes when Truncated. It is personal data: only Get
	// returns it (decrypted); List leaves it nil.
	Payload []byte
	// Size is the event's size as received, in bytes; 0 for rejections
	// stored before sizes were recorded.
	Size int
	// Truncated reports that Payload holds only the beginning of what was
	// received: it cannot be replayed.
	Truncated bool
	Status    Status
	// ReplayedAt is the time of the last replay attempt; zero if none.
	ReplayedAt time.Time
}

// Cursor is a position in List's order (newest first).
type Cursor struct {
	At time.Time
	ID uuid.UUID
}

// Cursor returns the position of r, to list what comes after it.
func (r Rejection) Cursor() Cursor { return Cursor{At: r.At, ID: r.ID} }

// IsZero reports whether c is the start (the newest rejection).
func (c Cursor) IsZero() bool { return c.At.IsZero() && c.ID == uuid.Nil }

// Filter selects rejections for List. Zero fields select everything.
type Filter struct {
	Tenant string
	Status Status
	// Since (inclusive) and Until (exclusive) bound the rejection time.
	Since, Until time.Time
	// Limit is the page size: 0 means DefaultLimit, at most MaxLimit.
	Limit int
	// After continues a listing after the last rejection of the previous
	// page (its Cursor); zero starts at the newest.
	After Cursor
}

// SubjectKey is the keyring subject whose data key seals a tenant's
// rejected payloads. Real subjects' keys are lower-case hex HMACs, so it
// never collides with a person's key.
func SubjectKey(tenant string) string { return "rejected:" + tenant }

// Store is the repository of rejected events.
type Store struct {
	conn    clickhouse.Conn
	keys    *keyring.Keyring
	now     func() time.Time
	tables  migrate.Tables
	limits  Limits
	metrics *Metrics
	log     *slog.Logger
	totals  *totals
	// list, byIDs and totalsSQL are queryList, queryByIDs and
	// queryTotals rendered for tables.
	list, byIDs, totalsSQL string
}

// Config configures a Store.
type Config struct {
	// Tables names the tables to read and write: the Distributed tables in
	// sharded mode. The zero value is a single node (or unsharded cluster).
	Tables migrate.Tables
	// Limits cap what Put keeps; zero fields take the defaults.
	Limits Limits
	// Metrics count what Put does not keep (NewMetrics); nil counts in
	// metrics registered nowhere.
	Metrics *Metrics
	// Log receives a warning when Put first finds the store full; nil
	// discards it.
	Log *slog.Logger
}

// New returns the store on conn for a single node or unsharded cluster;
// keys seals and opens payloads.
func New(conn clickhouse.Conn, keys *keyring.Keyring) *Store {
	return NewWithConfig(conn, keys, Config{})
}

// NewWithConfig returns the store on conn with cfg. It panics if
// cfg.Limits.Validate fails: check limits where they are configured.
func NewWithConfig(conn clickhouse.Conn, keys *keyring.Keyring, cfg Config) *Store {
	if err := cfg.Limits.Validate(); err != nil {
		panic(err)
	}
	cfg.Limits.setDefaults()
	if cfg.Metrics == nil {
		cfg.Metrics, _ = NewMetrics(nil) // registers nothing, cannot fail
	}
	if cfg.Log == nil {
		cfg.Log = discardLog
	}
	return &Store{conn: conn, keys: keys, now: time.Now, tables: cfg.Tables,
		limits: cfg.Limits, metrics: cfg.Metrics, log: cfg.Log, totals: &totals{},
		list: cfg.Tables.MustSQL(queryList), byIDs: cfg.Tables.MustSQL(queryByIDs), totalsSQL: cfg.Tables.MustSQL(queryTotals)}
}

var (
	epoch      = time.Unix(0, 0).UTC()
	endOfTime  = time.Date(2299, 12, 31, 0, 0, 0, 0, time.UTC) // DateTime64 goes to 2299-12-31
	maxUUID    = uuid.UUID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	minVersion = uint64(1)
)

// newID returns a time-ordered (v7) id, or a random one.
func newID() uuid.UUID {
	if id, err := uuid.NewV7(); err == nil {
		return id
	}
	return uuid.New()
}

// Put stores rejections in one insert, each payload sealed under the
// tenant's SubjectKey with the rejection id as AAD. It fills zero fields of
// rs in place: ID (a new v7 UUID), Tenant (event.DefaultTenant), At (now),
// Status (StatusRejected) and Size (the payload's length); a payload over
// Limits.MaxPayloadBytes is cut to its beginning in place and marked
// Truncated (custody_rejected_truncated_total). Putting the same rejection
// again is harmless: the copies collapse in storage.
//
// When the store is at a cap (Limits.MaxStored or MaxStoredBytes), Put
// keeps the rejections that fit, in order, drops the rest and returns an
// error wrapping ErrFull; the drop is counted
// (custody_rejected_dropped_total{reason}) and logged.
func (s *Store) Put(ctx context.Context, rs []Rejection) error {
	if len(rs) == 0 {
		return nil
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	for i := range rs {
		r := &rs[i]
		if r.ID == uuid.Nil {
			r.ID = newID()
		}
		if r.Tenant == "" {
			r.Tenant = event.DefaultTenant
		}
		if r.At.IsZero() {
			r.At = now
		}
		r.At = r.At.UTC().Truncate(time.Millisecond)
		if r.Status == "" {
			r.Status = StatusRejected
		}
		if err := check(r); err != nil {
			return fmt.Errorf("rejection %d: %w", i, err)
		}
		if truncate(r, s.limits.MaxPayloadBytes) {
			s.metrics.truncated.Inc()
		}
	}
	rows := make([]row, len(rs))
	for i := range rs {
		rows[i].KeptBytes = uint64(len(rs[i].Payload))
	}
	kept, reason, err := s.admit(ctx, rows)
	if err != nil {
		return err
	}
	rows = rows[:kept]
	keys := map[string]keyring.DataKey{}
	for i := range rows {
		r := &rs[i]
		dk, ok := keys[r.Tenant]
		if !ok {
			var err error
			if dk, err = s.keys.DataKeyFor(ctx, r.Tenant, SubjectKey(r.Tenant)); err != nil {
				return fmt.Errorf("rejected: data key of tenant %s: %w", r.Tenant, err)
			}
			keys[r.Tenant] = dk
		}
		sealed, err := dk.Seal(r.Payload, r.ID[:])
		if err != nil {
			return fmt.Errorf("rejection %s: seal payload: %w", r.ID, err)
		}
		errs, err := encodeErrors(r.Errors)
		if err != nil {
			return fmt.Errorf("rejection %s: %w", r.ID, err)
		}
		rows[i] = row{
			Tenant: r.Tenant, RejectionID: r.ID, RejectedAt: r.At, Stage: r.Stage, BatchIndex: uint32(r.Index),
			EventID: r.EventID, EventType: r.EventType, Errors: errs,
			SealedKeyID: sealed.KeyID, SealedPayload: sealed.Ciphertext,
			Status: string(r.Status), ReplayedAt: epoch, Version: max(minVersion, uint64(now.UnixNano())),
			ReceivedBytes: uint64(r.Size), KeptBytes: uint64(len(r.Payload)),
		}
		if !r.ReplayedAt.IsZero() {
			rows[i].ReplayedAt = r.ReplayedAt.UTC().Truncate(time.Millisecond)
		}
	}
	if len(rows) > 0 {
		if err := s.conn.Insert(s.tables.InsertContext(ctx, ""), s.tables.Name(tableRejected), rows); err != nil {
			return fmt.Errorf("store rejected events: %w", err)
		}
	}
	if kept < len(rs) {
		return fmt.Errorf("%w (%s): kept %d of %d rejections", ErrFull, reason, kept, len(rs))
	}
	return nil
}

func check(r *Rejection) error {
	switch {
	case r.Stage != StageHTTP && r.Stage != StagePipeline:
		return fmt.Errorf("stage must be %q or %q, got %q", StageHTTP, StagePipeline, r.Stage)
	case !r.Status.Valid():
		return fmt.Errorf("unknown status %q", r.Status)
	case r.Index < 0 || int64(r.Index) > int64(^uint32(0)):
		return fmt.Errorf("batch index %d out of range", r.Index)
	}
	return nil
}

// List returns rejections matching f, newest first, without payloads.
func (s *Store) List(ctx context.Context, f Filter) ([]Rejection, error) {
	switch {
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit < 0 || f.Limit > MaxLimit:
		return nil, fmt.Errorf("rejected: limit must be 1..%d, got %d", MaxLimit, f.Limit)
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, fmt.Errorf("rejected: unknown status %q; use %s, %s or %s", f.Status, StatusRejected, StatusReplayed, StatusStillRejected)
	}
	since, until := f.Since, f.Until
	if since.IsZero() {
		since = epoch
	}
	if until.IsZero() {
		until = endOfTime
	}
	before := f.After
	if before.IsZero() {
		before = Cursor{At: endOfTime, ID: maxUUID}
	}
	var rows []summaryRow
	err := s.conn.Select(ctx, &rows, s.list, clickhouse.Params{
		"tenant": f.Tenant, "status": string(f.Status), "since": since.UTC(), "until": until.UTC(),
		"before_at": before.At.UTC(), "before_id": before.ID, "limit": uint32(f.Limit),
	})
	if err != nil {
		return nil, fmt.Errorf("list rejected events: %w", err)
	}
	out := make([]Rejection, 0, len(rows))
	for _, r := range rows {
		rej, err := r.rejection()
		if err != nil {
			return nil, err
		}
		out = append(out, rej)
	}
	return out, nil
}

// Get returns one rejection with its payload decrypted, or ErrNotFound.
// Errors wrapping keyring.ErrKeyDestroyed mean the tenant's rejected
// payloads were crypto-shredded.
func (s *Store) Get(ctx context.Context, id uuid.UUID) (Rejection, error) {
	rows, err := s.rows(ctx, []uuid.UUID{id})
	if err != nil {
		return Rejection{}, err
	}
	r, ok := rows[id]
	if !ok {
		return Rejection{}, fmt.Errorf("rejection %s: %w", id, ErrNotFound)
	}
	rej, err := r.summary().rejection()
	if err != nil {
		return Rejection{}, err
	}
	if rej.Payload, err = s.open(ctx, r); err != nil {
		return Rejection{}, err
	}
	return rej, nil
}

// Mark records a new status for a rejection (ErrNotFound if there is none).
// StatusReplayed and StatusStillRejected also stamp the replay time.
func (s *Store) Mark(ctx context.Context, id uuid.UUID, status Status) error {
	if !status.Valid() {
		return fmt.Errorf("rejected: unknown status %q", status)
	}
	rows, err := s.rows(ctx, []uuid.UUID{id})
	if err != nil {
		return err
	}
	r, ok := rows[id]
	if !ok {
		return fmt.Errorf("rejection %s: %w", id, ErrNotFound)
	}
	return s.write(ctx, []row{s.next(r, status, nil)})
}

// rows reads the latest version of each id that exists.
func (s *Store) rows(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]row, error) {
	var rows []row
	if err := s.conn.Select(ctx, &rows, s.byIDs, clickhouse.Params{"ids": ids}); err != nil {
		return nil, fmt.Errorf("read rejected events: %w", err)
	}
	out := make(map[uuid.UUID]row, len(rows))
	for _, r := range rows {
		// FINAL leaves one row per sort key; a rejection put twice with
		// different times would leave two: the latest version wins.
		if prev, ok := out[r.RejectionID]; !ok || r.Version > prev.Version {
			out[r.RejectionID] = r
		}
	}
	return out, nil
}

// next returns the version of r with a new status (and, when errs is not
// nil, new errors); the sealed payload is carried over unchanged.
func (s *Store) next(r row, status Status, errs *string) row {
	now := s.now().UTC().Truncate(time.Millisecond)
	r.Status = string(status)
	if status == StatusReplayed || status == StatusStillRejected {
		r.ReplayedAt = now
	}
	if errs != nil {
		r.Errors = *errs
	}
	r.Version = max(r.Version+1, uint64(s.now().UnixNano()))
	return r
}

func (s *Store) write(ctx context.Context, rows []row) error {
	if len(rows) == 0 {
		return nil
	}
	if err := s.conn.Insert(s.tables.InsertContext(ctx, ""), s.tables.Name(tableRejected), rows); err != nil {
		return fmt.Errorf("update rejected events: %w", err)
	}
	return nil
}

// open decrypts a row's payload.
func (s *Store) open(ctx context.Context, r row) ([]byte, error) {
	if r.SealedKeyID == "" {
		return nil, nil
	}
	plain, err := s.keys.Open(ctx, r.Tenant, SubjectKey(r.Tenant),
		keyring.Sealed{KeyID: r.SealedKeyID, Ciphertext: r.SealedPayload}, r.RejectionID[:])
	if err != nil {
		return nil, fmt.Errorf("rejection %s: open payload: %w", r.RejectionID, err)
	}
	return plain, nil
}
