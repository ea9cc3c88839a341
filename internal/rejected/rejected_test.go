package rejected

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

// now is the validation clock: the events below happen the day before.
var now = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// rejectedAt is when the stored rejections below were made: recent, since
// rejections expire after Retention (the table's TTL drops older rows as
// soon as it sees them).
var rejectedAt = time.Now().UTC().Truncate(time.Hour)

// env is a migrated engine with the event log and the rejected store
// sharing one keyring, as storage.Open builds them.
type env struct {
	conn   clickhouse.Conn
	log    *eventlog.Log
	hasher *identity.Hasher
	store  *Store
}

func newEnv(t *testing.T, conn clickhouse.Conn) env {
	e := logtest.Open(t, conn)
	return env{conn: conn, log: e.Log, hasher: e.Hasher, store: New(conn, e.Keys)}
}

func baseTaxonomy(t *testing.T) *taxonomy.Taxonomy {
	t.Helper()
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

func options(v event.Vocabulary) event.Options {
	return event.Options{Vocabulary: v, Now: func() time.Time { return now }}
}

type object = map[string]any

// collected returns a data.collected event of tenant with the given
// element category; valid when the category is known.
func collected(tenant, category string) object {
	return object{
		"id": uuid.NewString(), "type": "data.collected", "source": "dealer-portal",
		"time": "2026-03-01T12:00:00Z", "tenant": tenant,
		"subject": object{"identifiers": []any{
			object{"kind": "email", "value": "jane@example.com"},
			object{"kind": "customer_id", "value": "C-1009"},
		}},
		"data": object{
			"elements": []any{
				object{"name": "vin", "category": category, "value": "1HGCM82633A004352"},
			},
			"origin":   object{"kind": "consumer", "name": "registration form"},
			"purposes": []any{"order_fulfilment"},
			"system":   "dealer-db",
		},
	}
}

func batch(t *testing.T, events ...any) []byte {
	t.Helper()
	b, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rejectedResults decodes a batch and checks which indexes were rejected.
func rejectedResults(t *testing.T, body []byte, opts event.Options, wantRejected ...int) []event.Result {
	t.Helper()
	results := event.DecodeBatch(body, event.ContentTypeJSON, opts)
	var got []int
	for _, r := range results {
		if r.Event == nil {
			got = append(got, r.Index)
		}
	}
	if !slices.Equal(got, wantRejected) {
		for _, r := range results {
			t.Logf("result %d: %v", r.Index, r.Errors)
		}
		t.Fatalf("rejected indexes %v, want %v", got, wantRejected)
	}
	return results
}

func TestFromResults_KeepsIndexIDErrorsTenantTypeAndRawBytes(t *testing.T) {
	good := collected("acme", "contact.email")
	unknown := collected("acme", "vehicle.vin")
	badTenant := collected("Not A Tenant", "contact.email")
	body := batch(t, good, unknown, "not an event", badTenant)
	results := rejectedResults(t, body, options(baseTaxonomy(t)), 1, 2, 3)
	at := time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.FixedZone("x", 3600))

	rs := FromResults(results, StageHTTP, at)
	if len(rs) != 3 {
		t.Fatalf("%d rejections, want 3", len(rs))
	}
	ids := map[uuid.UUID]bool{}
	for i, r := range rs {
		res := results[i+1]
		if r.Index != res.Index || r.EventID != res.ID || !reflect.DeepEqual(r.Errors, res.Errors) {
			t.Errorf("rejection %d = index %d id %q errors %v; want %d %q %v", i, r.Index, r.EventID, r.Errors, res.Index, res.ID, res.Errors)
		}
		if !bytes.Equal(r.Payload, res.Raw) || len(r.Payload) == 0 {
			t.Errorf("rejection %d payload %q, want the raw bytes %q", i, r.Payload, res.Raw)
		}
		if r.Stage != StageHTTP || r.Status != StatusRejected || !r.At.Equal(at.Truncate(time.Millisecond)) || r.At.Location() != time.UTC {
			t.Errorf("rejection %d: stage %q status %q at %v", i, r.Stage, r.Status, r.At)
		}
		if r.ID == uuid.Nil || ids[r.ID] {
			t.Errorf("rejection %d: id %s is nil or repeated", i, r.ID)
		}
		ids[r.ID] = true
	}
	if rs[0].EventID != unknown["id"] || rs[0].Tenant != "acme" || rs[0].EventType != "data.collected" {
		t.Errorf("unknown category: %+v", rs[0])
	}
	if rs[1].Tenant != event.DefaultTenant || rs[1].EventID != "" || rs[1].EventType != "" {
		t.Errorf("a JSON string: tenant %q id %q type %q, want default, none, none", rs[1].Tenant, rs[1].EventID, rs[1].EventType)
	}
	if rs[2].Tenant != event.DefaultTenant || rs[2].EventID != badTenant["id"] {
		t.Errorf("an invalid tenant is not kept: tenant %q id %q", rs[2].Tenant, rs[2].EventID)
	}
	// The payload is a copy: the request body can be reused.
	for i := range body {
		body[i] = 'x'
	}
	if !json.Valid(rs[0].Payload) {
		t.Error("payload aliases the request body")
	}
}

func TestPutListGet_RoundTrip(t *testing.T) {
	for _, tr := range chtest.Transports(t) {
		t.Run(tr.Name, func(t *testing.T) {
			e := newEnv(t, tr.Open(t))
			ctx := context.Background()
			body := batch(t, collected("acme", "contact.email"), collected("acme", "vehicle.vin"), object{"id": "not-a-uuid", "tenant": "acme"})
			results := rejectedResults(t, body, options(baseTaxonomy(t)), 1, 2)
			rs := FromResults(results, StageHTTP, rejectedAt)
			if err := e.store.Put(ctx, rs); err != nil {
				t.Fatalf("put: %v", err)
			}

			listed, err := e.store.List(ctx, Filter{Tenant: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != 2 {
				t.Fatalf("listed %d, want 2", len(listed))
			}
			byID := map[uuid.UUID]Rejection{}
			for _, r := range listed {
				if r.Payload != nil {
					t.Errorf("List returned the payload of %s", r.ID)
				}
				byID[r.ID] = r
			}
			for _, want := range rs {
				got, ok := byID[want.ID]
				if !ok {
					t.Fatalf("rejection %s not listed", want.ID)
				}
				want.Payload = nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("listed\n %+v\nwant\n %+v", got, want)
				}
				full, err := e.store.Get(ctx, want.ID)
				if err != nil {
					t.Fatalf("get: %v", err)
				}
				if !bytes.Equal(full.Payload, results[want.Index].Raw) {
					t.Errorf("get payload %q, want %q", full.Payload, results[want.Index].Raw)
				}
				full.Payload = nil
				if !reflect.DeepEqual(full, want) {
					t.Errorf("get\n %+v\nwant\n %+v", full, want)
				}
			}
			if byID[rs[1].ID].EventID != "not-a-uuid" || len(byID[rs[1].ID].Errors) == 0 {
				t.Errorf("invalid id as sent: %+v", byID[rs[1].ID])
			}
		})
	}
}

func TestGetAndMark_UnknownIDIsErrNotFound(t *testing.T) {
	e := newEnv(t, chtest.Embedded(t))
	ctx := context.Background()
	if _, err := e.store.Get(ctx, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get unknown: %v, want ErrNotFound", err)
	}
	if err := e.store.Mark(ctx, uuid.New(), StatusReplayed); !errors.Is(err, ErrNotFound) {
		t.Fatalf("mark unknown: %v, want ErrNotFound", err)
	}
}

func TestPut_RejectsBadStageAndStatus(t *testing.T) {
	e := newEnv(t, chtest.Embedded(t))
	ctx := context.Background()
	if err := e.store.Put(ctx, []Rejection{{Stage: "smtp"}}); err == nil || !strings.Contains(err.Error(), "stage") {
		t.Errorf("bad stage: %v", err)
	}
	if err := e.store.Put(ctx, []Rejection{{Stage: StageHTTP, Status: "lost"}}); err == nil || !strings.Contains(err.Error(), "status") {
		t.Errorf("bad status: %v", err)
	}
	if err := e.store.Mark(ctx, uuid.New(), "lost"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("mark with bad status: %v", err)
	}
}

// The payload holds raw identifiers and values; none reaches ClickHouse's
// files in the clear. The event id as sent is stored in the clear, which
// shows the search would find a value that were.
func TestPut_PayloadIsNotStoredInTheClear(t *testing.T) {
	dir := t.TempDir()
	conn := chtest.EmbeddedAt(t, dir)
	e := newEnv(t, conn)
	ctx := context.Background()
	const (
		email  = "very-secret-rejected-person@example.com"
		phone  = "+14155550199"
		value  = "078-05-1199"
		canary = "canary-id-0f9e8d7c6b5a"
	)
	ev := collected("acme", "vehicle.vin")
	ev["id"] = canary
	ev["subject"] = object{"identifiers": []any{object{"kind": "email", "value": email}, object{"kind": "phone", "value": phone}}}
	ev["data"].(object)["elements"] = []any{object{"name": "ssn", "category": "government_id.ssn", "value": value}}
	results := rejectedResults(t, batch(t, ev), options(baseTaxonomy(t)), 0)
	rs := FromResults(results, StageHTTP, rejectedAt)
	if err := e.store.Put(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Mark(ctx, rs[0].ID, StatusStillRejected); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Get(ctx, rs[0].ID)
	if err != nil || !bytes.Contains(got.Payload, []byte(email)) {
		t.Fatalf("payload does not decrypt: %v", err)
	}
	needles := []string{email, phone, "4155550199", value, "1HGCM82633A004352"}
	// Every stored column, read back as stored: the files below are
	// compressed, so this is the check that does not depend on how a
	// string happens to compress.
	var rows []row
	if err := conn.Select(ctx, &rows, "SELECT "+columns+" FROM rejected_events", nil); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d stored rows, want 2 (put and mark)", len(rows))
	}
	for _, r := range rows {
		stored := fmt.Sprintf("%+v", r)
		for _, needle := range needles {
			if strings.Contains(stored, needle) || bytes.Contains(r.SealedPayload, []byte(needle)) {
				t.Errorf("a stored row holds %q in the clear", needle)
			}
		}
		if !strings.Contains(stored, canary) {
			t.Errorf("stored row without the event id as sent: %s", stored)
		}
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE rejected_events FINAL", nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil { // flush everything to disk
		t.Fatal(err)
	}
	found := func(needle string) []string {
		var in []string
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(needle)) {
				in = append(in, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	if len(found(canary)) == 0 {
		t.Fatal("the event id stored in the clear is not found: the search cannot see stored strings")
	}
	for _, needle := range needles {
		if in := found(needle); len(in) > 0 {
			t.Errorf("%q is stored in the clear in %v", needle, in)
		}
	}
}

func TestReplay_ValidAfterTaxonomyExtensionGoesToTheLog_StillInvalidKeepsNewErrors(t *testing.T) {
	for _, tr := range chtest.Transports(t) {
		t.Run(tr.Name, func(t *testing.T) {
			e := newEnv(t, tr.Open(t))
			ctx := context.Background()
			base := baseTaxonomy(t)

			fixable := collected("acme", "vehicle.vin")
			broken := collected("acme", "vehicle.vin")
			delete(broken["data"].(object), "system") // wrong under any taxonomy
			results := rejectedResults(t, batch(t, fixable, broken), options(base), 0, 1)
			if len(results[1].Errors) < 2 {
				t.Fatalf("broken event has errors %v, want the category and the system", results[1].Errors)
			}
			rs := FromResults(results, StageHTTP, rejectedAt)
			if err := e.store.Put(ctx, rs); err != nil {
				t.Fatal(err)
			}

			extended, err := base.WithExtension("acme", taxonomy.Extension{Categories: []taxonomy.Category{{
				Key: "vehicle.vin", Name: "Vehicle identification number",
				Description: "The VIN of a car you registered with us.", CCPA: []string{"A"},
			}}})
			if err != nil {
				t.Fatal(err)
			}
			missing := uuid.New()
			sink := ingest.LogSink{Log: e.log}
			report, err := e.store.Replay(ctx, []uuid.UUID{rs[0].ID, rs[1].ID, missing, rs[0].ID}, options(extended), sink)
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			if report.Replayed != 1 || report.StillRejected != 1 || report.NotFound != 1 || report.Failed != 0 || len(report.Results) != 3 {
				t.Fatalf("report %+v", report)
			}
			r0, r1, r2 := report.Results[0], report.Results[1], report.Results[2]
			if r0.ID != rs[0].ID || r0.Outcome != OutcomeReplayed || r0.Verdict != ingest.Accepted || r0.Tenant != "acme" || r0.EventID != fixable["id"] {
				t.Errorf("fixable: %+v", r0)
			}
			if r1.ID != rs[1].ID || r1.Outcome != OutcomeStillRejected || len(r1.Errors) != 1 || r1.Errors[0].Path != "data.system" {
				t.Errorf("broken: %+v", r1)
			}
			if r2.ID != missing || r2.Outcome != OutcomeNotFound || !errors.Is(r2.Err, ErrNotFound) {
				t.Errorf("missing: %+v", r2)
			}

			// The sink (the log) has the event, with its value.
			jane := logtest.Hashes(t, e.hasher,
				event.Identifier{Kind: identity.Email, Value: "jane@example.com"},
				event.Identifier{Kind: identity.CustomerID, Value: "C-1009"})
			recs, err := e.log.ByPerson(ctx, "acme", jane)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Event.ID.String() != fixable["id"] {
				t.Fatalf("log holds %d events, want the replayed one", len(recs))
			}
			if v := string(recs[0].Event.Data.ValueSlots()[0].Value); v != `"1HGCM82633A004352"` {
				t.Errorf("replayed value %s", v)
			}

			got0, err := e.store.Get(ctx, rs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if got0.Status != StatusReplayed || got0.ReplayedAt.IsZero() || !reflect.DeepEqual(got0.Errors, rs[0].Errors) {
				t.Errorf("replayed rejection: status %s at %v errors %v", got0.Status, got0.ReplayedAt, got0.Errors)
			}
			got1, err := e.store.Get(ctx, rs[1].ID)
			if err != nil {
				t.Fatal(err)
			}
			if got1.Status != StatusStillRejected || !reflect.DeepEqual(got1.Errors, r1.Errors) || !bytes.Equal(got1.Payload, rs[1].Payload) {
				t.Errorf("still rejected: status %s errors %v (want %v)", got1.Status, got1.Errors, r1.Errors)
			}
			for _, st := range []Status{StatusReplayed, StatusStillRejected} {
				l, err := e.store.List(ctx, Filter{Status: st})
				if err != nil || len(l) != 1 {
					t.Errorf("List(%s) = %d rejections, %v; want 1", st, len(l), err)
				}
			}
			if l, err := e.store.List(ctx, Filter{Status: StatusRejected}); err != nil || len(l) != 0 {
				t.Errorf("List(rejected) after replay = %d, %v; want none: the latest status wins", len(l), err)
			}

			// Replaying again is harmless: the log already has the event.
			again, err := e.store.Replay(ctx, []uuid.UUID{rs[0].ID}, options(extended), sink)
			if err != nil || again.Replayed != 1 || again.Results[0].Verdict != ingest.Duplicate {
				t.Fatalf("second replay: %+v, %v", again, err)
			}
			if n, err := e.log.Count(ctx, "acme"); err != nil || n != 1 {
				t.Errorf("log count %d, %v; want 1", n, err)
			}
		})
	}
}

// failingSink fails every call.
type failingSink struct{}

func (failingSink) Accept(context.Context, []*event.Event) ([]ingest.Verdict, error) {
	return nil, errors.New("broker unavailable")
}

func TestReplay_SinkFailureLeavesTheStatusAndReportsIt(t *testing.T) {
	e := newEnv(t, chtest.Embedded(t))
	ctx := context.Background()
	results := rejectedResults(t, batch(t, collected("acme", "vehicle.vin")), options(baseTaxonomy(t)), 0)
	rs := FromResults(results, StagePipeline, rejectedAt)
	if err := e.store.Put(ctx, rs); err != nil {
		t.Fatal(err)
	}
	report, err := e.store.Replay(ctx, []uuid.UUID{rs[0].ID}, options(event.AnyTerm), failingSink{})
	if err == nil || !strings.Contains(err.Error(), "broker unavailable") {
		t.Fatalf("replay: %v, want the sink's error", err)
	}
	if report.Failed != 1 || report.Results[0].Outcome != OutcomeFailed {
		t.Errorf("report %+v", report)
	}
	got, err := e.store.Get(ctx, rs[0].ID)
	if err != nil || got.Status != StatusRejected || !got.ReplayedAt.IsZero() {
		t.Errorf("status after a failed replay: %s %v, %v", got.Status, got.ReplayedAt, err)
	}
}

func TestList_FiltersByTenantStatusAndTime_NewestFirst(t *testing.T) {
	e := newEnv(t, chtest.Embedded(t))
	ctx := context.Background()
	t0 := rejectedAt.Add(-24 * time.Hour)
	var rs []Rejection
	for i := range 12 {
		tenant := []string{"acme", "globex", "default"}[i%3]
		rs = append(rs, Rejection{
			Tenant: tenant, At: t0.Add(time.Duration(i) * time.Hour), Stage: StageHTTP, Index: i,
			EventID: fmt.Sprintf("e%d", i), Errors: []event.FieldError{{Path: "id", Reason: "must be a UUID"}},
			Payload: []byte(fmt.Sprintf(`{"id":"e%d"}`, i)),
		})
	}
	if err := e.store.Put(ctx, rs); err != nil {
		t.Fatal(err)
	}
	// Two acme rejections move on; their older rows stay on disk until a
	// merge.
	if err := e.store.Mark(ctx, rs[3].ID, StatusReplayed); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Mark(ctx, rs[6].ID, StatusStillRejected); err != nil {
		t.Fatal(err)
	}
	indexes := func(f Filter) []int {
		t.Helper()
		l, err := e.store.List(ctx, f)
		if err != nil {
			t.Fatalf("List(%+v): %v", f, err)
		}
		var out []int
		for _, r := range l {
			out = append(out, r.Index)
		}
		return out
	}
	tests := []struct {
		name string
		f    Filter
		want []int
	}{
		{"all", Filter{}, []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"tenant", Filter{Tenant: "acme"}, []int{9, 6, 3, 0}},
		{"tenant and status", Filter{Tenant: "acme", Status: StatusRejected}, []int{9, 0}},
		{"replayed", Filter{Status: StatusReplayed}, []int{3}},
		{"still rejected", Filter{Status: StatusStillRejected}, []int{6}},
		{"since inclusive", Filter{Since: t0.Add(9 * time.Hour)}, []int{11, 10, 9}},
		{"until exclusive", Filter{Until: t0.Add(2 * time.Hour)}, []int{1, 0}},
		{"window and tenant", Filter{Tenant: "globex", Since: t0.Add(2 * time.Hour), Until: t0.Add(10 * time.Hour)}, []int{7, 4}},
		{"limit", Filter{Limit: 3}, []int{11, 10, 9}},
		{"after a cursor", Filter{Limit: 3, After: Cursor{At: rs[9].At, ID: rs[9].ID}}, []int{8, 7, 6}},
		{"unknown tenant", Filter{Tenant: "nobody"}, nil},
	}
	for _, tt := range tests {
		if got := indexes(tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	// Paging with cursors visits every rejection once.
	var paged []int
	var f Filter
	f.Limit = 5
	for {
		l, err := e.store.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l {
			paged = append(paged, r.Index)
		}
		if len(l) < f.Limit {
			break
		}
		f.After = l[len(l)-1].Cursor()
	}
	if !slices.Equal(paged, indexes(Filter{})) {
		t.Errorf("paged %v", paged)
	}
	for _, bad := range []Filter{{Limit: MaxLimit + 1}, {Limit: -1}, {Status: "lost"}} {
		if _, err := e.store.List(ctx, bad); err == nil {
			t.Errorf("List(%+v) succeeded", bad)
		}
	}
	if l, err := e.store.List(ctx, Filter{Limit: MaxLimit}); err != nil || len(l) != 12 {
		t.Errorf("List(limit max) = %d, %v", len(l), err)
	}
}
