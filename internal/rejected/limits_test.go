package rejected

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/migrate"
	"github.com/custodyhq/custody/schema"
)

// limitedEnv is newEnv with a store built with limits, its metrics on a
// registry of their own, and its log in a buffer.
type limitedEnv struct {
	env
	registry *prometheus.Registry
	logs     *bytes.Buffer
}

func newLimitedEnv(t *testing.T, conn clickhouse.Conn, limits Limits) limitedEnv {
	t.Helper()
	e := logtest.Open(t, conn)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	store := NewWithConfig(conn, e.Keys, Config{Limits: limits, Metrics: m, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	return limitedEnv{env: env{conn: conn, log: e.Log, hasher: e.Hasher, store: store}, registry: reg, logs: &logs}
}

// metric returns the value of a counter on the registry ("" labels: the
// counter without labels).
func (e limitedEnv) metric(t *testing.T, name, reason string) float64 {
	t.Helper()
	families, err := e.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if reason == "" && len(m.GetLabel()) == 0 {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no metric %s{reason=%q}", name, reason)
	return 0
}

// rejections returns n rejections of tenant acme with payloads of size
// bytes each.
func rejections(n, size int) []Rejection {
	out := make([]Rejection, n)
	for i := range out {
		out[i] = Rejection{Tenant: "acme", Stage: StageHTTP, Index: i, EventID: fmt.Sprintf("e%d", i),
			Errors: []event.FieldError{{Path: "id", Reason: "must be a UUID"}}, Payload: bytes.Repeat([]byte("x"), size)}
	}
	return out
}

// A rejected event over MaxPayloadBytes is kept in part and marked: its
// size as received, Truncated in List and Get, counted, and refused by
// Replay (it is not the event any more).
func TestPut_KeepsTheBeginningOfLargePayloadsAndMarksThem(t *testing.T) {
	const limit = 4 << 10
	e := newLimitedEnv(t, chtest.Embedded(t), Limits{MaxPayloadBytes: limit})
	ctx := context.Background()
	// A malformed batch: its rest (2 MB) is one rejected result.
	malformed := append([]byte(`[{"id":"x"},`), bytes.Repeat([]byte(`"éé`), 1<<20/2)...)
	bodyResults := event.DecodeBatch(malformed, event.ContentTypeJSON, options(event.AnyTerm))
	tests := []struct {
		name      string
		payload   []byte
		kept      int // -1: the most whole runes that fit
		truncated bool
	}{
		{"small", []byte(`{"id":"small"}`), len(`{"id":"small"}`), false},
		{"at the limit", bytes.Repeat([]byte("a"), limit), limit, false},
		{"one byte over", bytes.Repeat([]byte("a"), limit+1), limit, true},
		{"the rest of a malformed 2 MB batch, cut between runes", bodyResults[len(bodyResults)-1].Raw, -1, true},
	}
	rs := make([]Rejection, len(tests))
	for i, tt := range tests {
		rs[i] = Rejection{Tenant: "acme", Stage: StageHTTP, Index: i, Payload: bytes.Clone(tt.payload),
			Errors: []event.FieldError{{Reason: "malformed"}}}
	}
	if err := e.store.Put(ctx, rs); err != nil {
		t.Fatal(err)
	}
	listed, err := e.store.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[uuid.UUID]Rejection{}
	for _, r := range listed {
		byID[r.ID] = r
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.store.Get(ctx, rs[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			kept := tt.kept
			if kept < 0 {
				kept = len(got.Payload)
				if kept > limit || kept < limit-3 || !utf8.Valid(got.Payload) {
					t.Errorf("kept %d bytes (valid UTF-8: %v), want whole runes up to %d", kept, utf8.Valid(got.Payload), limit)
				}
			}
			if len(got.Payload) != kept || !bytes.Equal(got.Payload, tt.payload[:kept]) || got.Truncated != tt.truncated || got.Size != len(tt.payload) {
				t.Errorf("kept %d bytes (truncated %v, size %d), want %d (%v, %d)", len(got.Payload), got.Truncated, got.Size, kept, tt.truncated, len(tt.payload))
			}
			if l := byID[rs[i].ID]; l.Truncated != tt.truncated || l.Size != len(tt.payload) {
				t.Errorf("listed truncated %v size %d", l.Truncated, l.Size)
			}
			if rs[i].Truncated != tt.truncated || rs[i].Size != len(tt.payload) {
				t.Errorf("Put set truncated %v size %d in place", rs[i].Truncated, rs[i].Size)
			}
		})
	}
	if n := e.metric(t, "custody_rejected_truncated_total", ""); n != 2 {
		t.Errorf("custody_rejected_truncated_total = %v, want 2", n)
	}
	report, err := e.store.Replay(ctx, []uuid.UUID{rs[2].ID}, options(event.AnyTerm), failingSink{})
	if err != nil || report.Failed != 1 || !errors.Is(report.Results[0].Err, ErrTruncated) {
		t.Fatalf("replay of a truncated rejection: %+v, %v; want failed with ErrTruncated", report, err)
	}
	if got, _ := e.store.Get(ctx, rs[2].ID); got.Status != StatusRejected {
		t.Errorf("status after the refused replay: %s", got.Status)
	}
}

// The store stops at its caps: what fits is kept, in order, the rest is
// dropped, counted by reason, logged once, and Put says so (ErrFull). Room
// comes back when rejections go.
func TestPut_StopsAtItsCapsAndReportsIt(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		first  []Rejection // fits
		then   []Rejection // partly
		kept   int         // of then
		reason string
	}{
		{"count", Limits{MaxStored: 5}, rejections(3, 100), rejections(4, 100), 2, DropMaxStored},
		{"bytes", Limits{MaxPayloadBytes: 1 << 10, MaxStoredBytes: 5 << 10}, rejections(2, 1<<10), rejections(5, 1<<10), 3, DropMaxStoredBytes},
		{"bytes, truncated payloads counted as kept", Limits{MaxPayloadBytes: 1 << 10, MaxStoredBytes: 3 << 10}, rejections(1, 10<<10), rejections(3, 10<<10), 2, DropMaxStoredBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLimitedEnv(t, chtest.Embedded(t), tt.limits)
			ctx := context.Background()
			clock := time.Now().UTC() // rejections older than Retention expire at once
			e.store.now = func() time.Time { return clock }
			if err := e.store.Put(ctx, tt.first); err != nil {
				t.Fatalf("first put: %v", err)
			}
			err := e.store.Put(ctx, tt.then)
			if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("put beyond the cap: %v, want ErrFull (%s)", err, tt.reason)
			}
			dropped := len(tt.then) - tt.kept
			if n := e.metric(t, "custody_rejected_dropped_total", tt.reason); n != float64(dropped) {
				t.Errorf("custody_rejected_dropped_total{reason=%q} = %v, want %d", tt.reason, n, dropped)
			}
			if err := e.store.Put(ctx, rejections(1, 10)); !errors.Is(err, ErrFull) {
				t.Fatalf("put when full: %v", err)
			}
			if n := strings.Count(e.logs.String(), "rejected-event store is full"); n != 1 || !strings.Contains(e.logs.String(), "reason="+tt.reason) {
				t.Errorf("logged %d times, want once with the reason:\n%s", n, e.logs)
			}
			listed, err := e.store.List(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[uuid.UUID]bool{}
			for _, r := range append(tt.first, tt.then[:tt.kept]...) {
				want[r.ID] = true
			}
			if len(listed) != len(want) {
				t.Fatalf("%d stored, want %d", len(listed), len(want))
			}
			for _, r := range listed {
				if !want[r.ID] {
					t.Errorf("stored %s (index %d), which was past the cap", r.EventID, r.Index)
				}
			}
			// Another process's view: a new store counts what is stored.
			other := NewWithConfig(e.conn, e.store.keys, Config{Limits: tt.limits})
			if err := other.Put(ctx, rejections(1, 10)); !errors.Is(err, ErrFull) {
				t.Errorf("a new store over the same table: %v, want ErrFull", err)
			}
			// Rejections go (here all at once); once the store reads its
			// totals again it keeps new ones.
			if err := e.conn.Exec(ctx, "TRUNCATE TABLE rejected_events", nil); err != nil {
				t.Fatal(err)
			}
			if err := e.store.Put(ctx, rejections(1, 10)); !errors.Is(err, ErrFull) {
				t.Errorf("within %s of the last count: %v, want ErrFull", totalsMaxAge, err)
			}
			clock = clock.Add(totalsMaxAge)
			if err := e.store.Put(ctx, rejections(1, 10)); err != nil {
				t.Errorf("after the rejections went: %v", err)
			}
		})
	}
}

// Rejections expire 30 days after they were rejected: the table has a TTL
// (migration 008), and a merge removes what is past it.
func TestRejectedEvents_HaveARetentionPeriod(t *testing.T) {
	e := newEnv(t, chtest.Embedded(t))
	ctx := context.Background()
	var tables []struct {
		Engine string `ch:"engine_full"`
	}
	if err := e.conn.Select(ctx, &tables, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'rejected_events'", nil); err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || !strings.Contains(tables[0].Engine, "TTL toDateTime(rejected_at) + toIntervalDay(30)") {
		t.Fatalf("rejected_events engine %q has no TTL of 30 days", tables)
	}
	if Retention != 30*24*time.Hour {
		t.Errorf("Retention = %s, but the table keeps 30 days", Retention)
	}
	fresh := time.Now().UTC()
	rs := rejections(3, 10)
	rs[0].At = fresh.Add(-Retention - 24*time.Hour) // expired
	rs[1].At = fresh.Add(-Retention + 24*time.Hour) // not yet
	rs[2].At = fresh
	if err := e.store.Put(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := e.conn.Exec(ctx, "OPTIMIZE TABLE rejected_events FINAL", nil); err != nil {
		t.Fatal(err)
	}
	listed, err := e.store.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var left []int
	for _, r := range listed {
		left = append(left, r.Index)
	}
	if fmt.Sprint(left) != "[2 1]" {
		t.Errorf("after a merge: rejections %v remain, want [2 1] (0 is past the retention)", left)
	}
}

// Rows stored before migration 008 read as before: never truncated, of
// unknown size, and counted against the caps by their sealed length.
func TestMigration008_RowsFromBeforeReadWhole(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	before := fstest.MapFS{}
	err := fs.WalkDir(schema.ClickHouse(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path >= "008" {
			return err
		}
		b, err := fs.ReadFile(schema.ClickHouse(), path)
		before[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.New(conn, before, migrate.Config{}, nil)
	if err == nil {
		_, err = m.Up(ctx)
	}
	if err != nil {
		t.Fatalf("migrations before 008: %v", err)
	}
	if err := conn.Exec(ctx, `INSERT INTO rejected_events (tenant, rejection_id, rejected_at, stage, batch_index, event_id, event_type,
errors, sealed_key_id, sealed_payload, status, replayed_at, version)
VALUES ('acme', '0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10', now64(3), 'http', 0, 'e0', '', '[]', '', 'sealed-bytes', 'rejected', 0, 1)`, nil); err != nil {
		t.Fatal(err)
	}
	e := newLimitedEnv(t, conn, Limits{MaxPayloadBytes: 1 << 10, MaxStoredBytes: 1<<10 + int64(len("sealed-bytes"))}) // migrates the rest
	listed, err := e.store.List(ctx, Filter{})
	if err != nil || len(listed) != 1 {
		t.Fatalf("listed %d, %v", len(listed), err)
	}
	if listed[0].Truncated || listed[0].Size != 0 {
		t.Errorf("a row from before 008: truncated %v size %d, want false 0", listed[0].Truncated, listed[0].Size)
	}
	if err := e.store.Put(ctx, rejections(1, 1<<10)); err != nil {
		t.Fatalf("a payload that fits beside the old row: %v", err)
	}
	if err := e.store.Put(ctx, rejections(1, 1)); !errors.Is(err, ErrFull) {
		t.Errorf("one byte more: %v, want ErrFull (the old row counts %d bytes)", err, len("sealed-bytes"))
	}
}

func TestLimits_ValidateNamesTheField(t *testing.T) {
	tests := []struct {
		limits Limits
		want   string // "" means valid
	}{
		{Limits{}, ""},
		{Limits{MaxPayloadBytes: 1 << 10, MaxStoredBytes: 1 << 10, MaxStored: 1}, ""},
		{Limits{MaxPayloadBytes: event.MaxEventBytes}, ""},
		{Limits{MaxPayloadBytes: 100}, "max_payload_bytes must be 1024..1048576"},
		{Limits{MaxPayloadBytes: event.MaxEventBytes + 1}, "max_payload_bytes"},
		{Limits{MaxStoredBytes: 1000}, "max_stored_bytes must be at least max_payload_bytes (65536)"},
		{Limits{MaxStored: -1}, "max_stored must be at least 1"},
	}
	for _, tt := range tests {
		err := tt.limits.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.limits, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: err = %v, want %q", tt.limits, err, tt.want)
		}
	}
}
