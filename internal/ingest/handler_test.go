package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/eventlog/logtest"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

// now is the validation clock: the events below happen the day before.
var now = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// newEventLog opens chDB on a fresh directory, migrates it and builds the
// event log with fresh secrets.
func newEventLog(t *testing.T) *eventlog.Log {
	return logtest.Open(t, chtest.Embedded(t)).Log
}

// newHandler builds the handler with the real taxonomy and a fresh metrics
// registry.
func newHandler(t *testing.T, cfg ingest.Config, sink ingest.Sink) (*ingest.Handler, *prometheus.Registry) {
	t.Helper()
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatalf("load taxonomy: %v", err)
	}
	registry := prometheus.NewRegistry()
	h, err := ingest.NewHandler(cfg, event.Options{Vocabulary: tax, Now: func() time.Time { return now }},
		sink, slog.New(slog.DiscardHandler), registry)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h, registry
}

// answer is one response of POST /v1/events.
type answer struct {
	code   int
	header http.Header
	raw    string
	body   ingest.Response
}

func post(t *testing.T, h http.Handler, contentType string, body []byte) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{code: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &a.body); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, a.raw)
	}
	return a
}

type object = map[string]any

// collected returns a valid data.collected event of tenant with a fresh id.
func collected(tenant string) object {
	return object{
		"id": uuid.NewString(), "type": "data.collected", "source": "checkout-service",
		"time": "2026-03-01T12:00:00Z", "tenant": tenant,
		"subject": object{"identifiers": []any{
			object{"kind": "email", "value": "jane@example.com"},
			object{"kind": "customer_id", "value": "C-1009"},
		}},
		"data": object{
			"elements": []any{
				object{"name": "email", "category": "contact.email", "value": "jane@example.com"},
				object{"name": "card", "category": "financial.card_number"},
			},
			"origin":   object{"kind": "consumer", "name": "checkout"},
			"purposes": []any{"order_fulfilment"},
			"system":   "orders-db",
		},
	}
}

// shared returns a valid data.shared event of tenant with a fresh id.
func shared(tenant string) object {
	return object{
		"id": uuid.NewString(), "type": "data.shared", "source": "ads-service",
		"time": "2026-03-01T13:00:00Z", "tenant": tenant,
		"subject": object{"identifiers": []any{object{"kind": "email", "value": "Jane@Example.com"}}},
		"data": object{
			"recipient":  object{"name": "AdNetwork Inc", "kind": "advertising_network", "role": "third_party", "country": "US"},
			"elements":   []any{object{"name": "email", "category": "contact.email"}},
			"purposes":   []any{"targeted_advertising"},
			"disclosure": "sharing",
			"system":     "crm",
		},
	}
}

func dataOf(e object) object { return e["data"].(object) }

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonArray(t *testing.T, events ...object) []byte { return encode(t, events) }

func ndjson(t *testing.T, events ...object) []byte {
	var b []byte
	for _, e := range events {
		b = append(append(b, encode(t, e)...), '\n')
	}
	return b
}

func count(t *testing.T, l *eventlog.Log, tenant string) uint64 {
	t.Helper()
	n, err := l.Count(context.Background(), tenant)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

// wantVerdicts checks the per-event results against events and verdicts.
func wantVerdicts(t *testing.T, a answer, events []object, verdicts ...ingest.Verdict) {
	t.Helper()
	if len(a.body.Results) != len(verdicts) {
		t.Fatalf("%d results, want %d:\n%s", len(a.body.Results), len(verdicts), a.raw)
	}
	for i, r := range a.body.Results {
		if r.Index != i || r.Status != verdicts[i] {
			t.Errorf("result %d = index %d %s, want index %d %s (errors %v)", i, r.Index, r.Status, i, verdicts[i], r.Errors)
		}
		if events != nil && r.ID != events[i]["id"] {
			t.Errorf("result %d id = %q, want %q", i, r.ID, events[i]["id"])
		}
		if r.Status != ingest.Rejected && len(r.Errors) > 0 {
			t.Errorf("result %d is %s but carries errors %v", i, r.Status, r.Errors)
		}
	}
}

func repeat(v ingest.Verdict, n int) []ingest.Verdict {
	out := make([]ingest.Verdict, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestPost_EveryFramingIsStoredOnceAndThenReportedDuplicate(t *testing.T) {
	l := newEventLog(t)
	h, _ := newHandler(t, ingest.Config{}, ingest.LogSink{Log: l})
	tests := []struct {
		name        string
		tenant      string
		contentType string
		n           int
		body        func(t *testing.T, events []object) []byte
	}{
		{"json array", "framing-array", "application/json", 3,
			func(t *testing.T, es []object) []byte { return jsonArray(t, es...) }},
		{"json array without content type", "framing-sniffed", "", 2,
			func(t *testing.T, es []object) []byte { return jsonArray(t, es...) }},
		{"one json object", "framing-object", "application/json; charset=utf-8", 1,
			func(t *testing.T, es []object) []byte { return encode(t, es[0]) }},
		{"ndjson", "framing-ndjson", "application/x-ndjson", 3,
			func(t *testing.T, es []object) []byte { return ndjson(t, es...) }},
		{"cloudevents structured", "framing-ce", "application/cloudevents+json", 1,
			func(t *testing.T, es []object) []byte {
				e := es[0]
				e["specversion"] = "1.0"
				e["datacontenttype"] = "application/json"
				return encode(t, e)
			}},
		{"cloudevents batch", "framing-ce-batch", "application/cloudevents-batch+json", 2,
			func(t *testing.T, es []object) []byte {
				for _, e := range es {
					e["specversion"] = "1.0"
				}
				return jsonArray(t, es...)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := make([]object, tt.n)
			for i := range events {
				events[i] = collected(tt.tenant)
				if i%2 == 1 {
					events[i] = shared(tt.tenant)
				}
			}
			body := tt.body(t, events)

			first := post(t, h, tt.contentType, body)
			if first.code != http.StatusOK {
				t.Fatalf("first POST = %d, want 200:\n%s", first.code, first.raw)
			}
			if b := first.body; b.Accepted != tt.n || b.Duplicates != 0 || b.Rejected != 0 {
				t.Errorf("first POST counts %d/%d/%d, want %d accepted", b.Accepted, b.Duplicates, b.Rejected, tt.n)
			}
			wantVerdicts(t, first, events, repeat(ingest.Accepted, tt.n)...)
			if got := count(t, l, tt.tenant); got != uint64(tt.n) {
				t.Fatalf("log holds %d events of %s, want %d", got, tt.tenant, tt.n)
			}

			again := post(t, h, tt.contentType, body)
			if again.code != http.StatusOK {
				t.Fatalf("second POST = %d, want 200:\n%s", again.code, again.raw)
			}
			if b := again.body; b.Accepted != 0 || b.Duplicates != tt.n || b.Rejected != 0 {
				t.Errorf("second POST counts %d/%d/%d, want %d duplicates", b.Accepted, b.Duplicates, b.Rejected, tt.n)
			}
			wantVerdicts(t, again, events, repeat(ingest.Duplicate, tt.n)...)
			if got := count(t, l, tt.tenant); got != uint64(tt.n) {
				t.Fatalf("after a retry the log holds %d events of %s, want %d", got, tt.tenant, tt.n)
			}
		})
	}
}

func TestPost_SameIDTwiceInOneBatchIsStoredOnce(t *testing.T) {
	l := newEventLog(t)
	h, _ := newHandler(t, ingest.Config{}, ingest.LogSink{Log: l})
	e := collected("same-batch")
	a := post(t, h, "application/json", jsonArray(t, e, e))
	if a.code != http.StatusOK {
		t.Fatalf("POST = %d, want 200:\n%s", a.code, a.raw)
	}
	wantVerdicts(t, a, []object{e, e}, ingest.Accepted, ingest.Duplicate)
	if got := count(t, l, "same-batch"); got != 1 {
		t.Fatalf("log holds %d events, want 1", got)
	}
}

// badEvent is a mistake in an otherwise valid event and how it must be
// explained.
type badEvent struct {
	name       string
	spoil      func(e object)
	wantPath   string
	wantReason []string // substrings of the reason at wantPath
	notInBody  []string // values that must never be echoed
}

var badEvents = []badEvent{
	{
		name:       "category typo",
		spoil:      func(e object) { dataOf(e)["elements"].([]any)[0].(object)["category"] = "contact.emial" },
		wantPath:   "data.elements[0].category",
		wantReason: []string{"contact.emial", "did you mean", "contact.email"},
	},
	{
		name: "field purpose instead of purposes",
		spoil: func(e object) {
			d := dataOf(e)
			d["purpose"] = d["purposes"]
			delete(d, "purposes")
		},
		wantPath:   "data.purpose",
		wantReason: []string{"unknown field", "did you mean `purposes`"},
	},
	{
		name: "national phone number",
		spoil: func(e object) {
			e["subject"] = object{"identifiers": []any{object{"kind": "phone", "value": "(212) 736-9823"}}}
		},
		wantPath:   "subject.identifiers[0].value",
		wantReason: []string{"E.164"},
		notInBody:  []string{"(212) 736-9823", "736-9823", "2127369823"},
	},
	{
		name:       "unknown purpose",
		spoil:      func(e object) { dataOf(e)["purposes"] = []any{"order_fulfillment"} },
		wantPath:   "data.purposes[0]",
		wantReason: []string{"did you mean", "order_fulfilment"},
	},
}

// reasonAt returns the reasons reported at path.
func reasonAt(errs []event.FieldError, path string) []string {
	var out []string
	for _, e := range errs {
		if e.Path == path {
			out = append(out, e.Reason)
		}
	}
	return out
}

func checkExplained(t *testing.T, a answer, r ingest.EventResult, bad badEvent) {
	t.Helper()
	if r.Status != ingest.Rejected {
		t.Fatalf("%s: status %s, want rejected", bad.name, r.Status)
	}
	reasons := reasonAt(r.Errors, bad.wantPath)
	if len(reasons) == 0 {
		t.Fatalf("%s: no error at %s; errors: %v", bad.name, bad.wantPath, r.Errors)
	}
	for _, want := range bad.wantReason {
		if !strings.Contains(strings.Join(reasons, "\n"), want) {
			t.Errorf("%s: reason at %s = %q, want it to contain %q", bad.name, bad.wantPath, reasons, want)
		}
	}
	for _, secret := range bad.notInBody {
		if strings.Contains(a.raw, secret) {
			t.Errorf("%s: response echoes %q:\n%s", bad.name, secret, a.raw)
		}
	}
}

func TestPost_MixedBatchStoresTheGoodAndExplainsEachBadEventBy207(t *testing.T) {
	const tenant = "mixed"
	l := newEventLog(t)
	h, _ := newHandler(t, ingest.Config{}, ingest.LogSink{Log: l})

	// good, bad, good, bad, bad, …: a bad event must not affect its
	// neighbours.
	var events []object
	var verdicts []ingest.Verdict
	badAt := map[int]badEvent{}
	for i, bad := range badEvents {
		good := collected(tenant)
		if i%2 == 1 {
			good = shared(tenant)
		}
		events = append(events, good)
		verdicts = append(verdicts, ingest.Accepted)
		e := collected(tenant)
		bad.spoil(e)
		badAt[len(events)] = bad
		events = append(events, e)
		verdicts = append(verdicts, ingest.Rejected)
	}
	a := post(t, h, "application/json", jsonArray(t, events...))
	if a.code != http.StatusMultiStatus {
		t.Fatalf("POST = %d, want 207:\n%s", a.code, a.raw)
	}
	wantVerdicts(t, a, events, verdicts...)
	if b := a.body; b.Accepted != len(badEvents) || b.Rejected != len(badEvents) || b.Duplicates != 0 {
		t.Errorf("counts %d/%d/%d, want %d accepted and %d rejected", b.Accepted, b.Duplicates, b.Rejected, len(badEvents), len(badEvents))
	}
	for i, bad := range badAt {
		checkExplained(t, a, a.body.Results[i], bad)
	}
	if got := count(t, l, tenant); got != uint64(len(badEvents)) {
		t.Fatalf("log holds %d events, want the %d good ones", got, len(badEvents))
	}
}

func TestPost_AllBadIs422AndStoresNothing(t *testing.T) {
	const tenant = "all-bad"
	l := newEventLog(t)
	h, _ := newHandler(t, ingest.Config{}, ingest.LogSink{Log: l})
	for _, bad := range badEvents {
		t.Run(bad.name, func(t *testing.T) {
			e := collected(tenant)
			bad.spoil(e)
			a := post(t, h, "application/x-ndjson", ndjson(t, e))
			if a.code != http.StatusUnprocessableEntity {
				t.Fatalf("POST = %d, want 422:\n%s", a.code, a.raw)
			}
			if a.body.Rejected != 1 || a.body.Accepted != 0 {
				t.Errorf("counts accepted %d rejected %d, want 0 and 1", a.body.Accepted, a.body.Rejected)
			}
			checkExplained(t, a, a.body.Results[0], bad)
		})
	}
	if got := count(t, l, tenant); got != 0 {
		t.Fatalf("log holds %d events, want none", got)
	}
}

// storeNothing is a Sink for requests that must never reach storage.
type storeNothing struct{ t *testing.T }

func (s storeNothing) Accept(context.Context, []*event.Event) ([]ingest.Verdict, error) {
	s.t.Error("the sink was called for a request that has nothing to store")
	return nil, errors.New("unexpected")
}

func TestPost_UnreadableBatchesAreRejectedWithAReason(t *testing.T) {
	h, _ := newHandler(t, ingest.Config{}, storeNothing{t})
	internal := collected("outside")
	internal["type"] = "request.opened"
	internal["data"] = object{"request_id": "R-1", "kind": "know"}
	tests := []struct {
		name        string
		contentType string
		body        []byte
		wantPath    string
		wantReason  []string
	}{
		{"unsupported content type", "text/plain", jsonArray(t, collected("outside")), "",
			[]string{"unsupported Content-Type", `"text/plain"`, "application/json", "application/x-ndjson"}},
		{"charset other than utf-8", "application/json; charset=latin1", jsonArray(t, collected("outside")), "",
			[]string{"UTF-8"}},
		{"empty body", "application/json", nil, "", []string{"empty"}},
		{"empty array", "application/json", []byte("[]"), "", []string{"no events"}},
		{"malformed json", "application/json", []byte(`[{"id": `), "", nil},
		{"request type from outside", "application/json", jsonArray(t, internal), "type",
			[]string{"request.opened", "written by Custody itself"}},
		{"array sent as cloudevents single", "application/cloudevents+json", jsonArray(t, collected("outside")), "",
			[]string{"application/cloudevents-batch+json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, h, tt.contentType, tt.body)
			if a.code != http.StatusUnprocessableEntity {
				t.Fatalf("POST = %d, want 422:\n%s", a.code, a.raw)
			}
			if len(a.body.Results) != 1 || a.body.Results[0].Status != ingest.Rejected || a.body.Rejected != 1 {
				t.Fatalf("want one rejected result:\n%s", a.raw)
			}
			reasons := reasonAt(a.body.Results[0].Errors, tt.wantPath)
			if len(reasons) == 0 {
				t.Fatalf("no error at %q: %v", tt.wantPath, a.body.Results[0].Errors)
			}
			for _, want := range tt.wantReason {
				if !strings.Contains(strings.Join(reasons, "\n"), want) {
					t.Errorf("reason %q lacks %q", reasons, want)
				}
			}
		})
	}
}

func TestPost_OversizedRequestsAre413AndStoreNothing(t *testing.T) {
	const tenant = "oversized"
	l := newEventLog(t)
	h, reg := newHandler(t, ingest.Config{MaxBodyBytes: 4 << 10, MaxEvents: 2}, ingest.LogSink{Log: l})
	var big []object
	for range 20 {
		big = append(big, collected(tenant))
	}
	tests := []struct {
		name      string
		body      []byte
		wantError string
	}{
		{"body over max_body_bytes", jsonArray(t, big...), "body exceeds 4096 bytes"},
		{"body over max_body_bytes by trailing space", append(jsonArray(t, collected(tenant)), bytes.Repeat([]byte(" "), 4<<10)...), "body exceeds 4096 bytes"},
		{"more events than max_events", jsonArray(t, collected(tenant), collected(tenant), collected(tenant)), "batch has 3 events, the limit is 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, h, "application/json", tt.body)
			if a.code != http.StatusRequestEntityTooLarge {
				t.Fatalf("POST = %d, want 413:\n%s", a.code, a.raw)
			}
			if !strings.Contains(a.body.Error, tt.wantError) || !strings.Contains(a.body.Error, "split") {
				t.Errorf("error %q, want it to say %q and to split the batch", a.body.Error, tt.wantError)
			}
			if a.body.Accepted != 0 || len(a.body.Results) != 0 {
				t.Errorf("413 carries results:\n%s", a.raw)
			}
		})
	}
	if got := count(t, l, tenant); got != 0 {
		t.Fatalf("log holds %d events, want none", got)
	}
	for _, v := range []ingest.Verdict{ingest.Accepted, ingest.Duplicate, ingest.Rejected} {
		if n := eventsTotal(t, reg, v); n != 0 {
			t.Errorf("custody_ingest_events_total{verdict=%q} = %v after refused requests, want 0", v, n)
		}
	}

	// At the limits exactly, the batch goes through.
	a := post(t, h, "application/json", jsonArray(t, collected(tenant), collected(tenant)))
	if a.code != http.StatusOK {
		t.Fatalf("POST at max_events = %d, want 200:\n%s", a.code, a.raw)
	}
}

// A body is read the same whether its length is declared or not (chunked);
// a declared length the body does not reach is a 400, not a short batch.
func TestPost_BodyIsReadWithOrWithoutADeclaredLength(t *testing.T) {
	const tenant = "framing"
	l := newEventLog(t)
	h, _ := newHandler(t, ingest.Config{MaxBodyBytes: 4 << 10, MaxEvents: 50}, ingest.LogSink{Log: l})
	var big []object
	for range 20 {
		big = append(big, collected(tenant))
	}
	good := jsonArray(t, collected(tenant), collected(tenant))
	tests := []struct {
		name     string
		body     []byte
		declared int64 // Content-Length; -1 is chunked
		want     int
	}{
		{"declared", good, int64(len(good)), http.StatusOK},
		{"chunked", good, -1, http.StatusOK},
		{"over the limit, declared", jsonArray(t, big...), int64(len(jsonArray(t, big...))), http.StatusRequestEntityTooLarge},
		{"over the limit, chunked", jsonArray(t, big...), -1, http.StatusRequestEntityTooLarge},
		{"shorter than declared", good, int64(len(good)) + 10, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Fresh ids: each case would otherwise see the last one's as duplicates.
			body := bytes.Clone(tt.body)
			if tt.want == http.StatusOK {
				body = jsonArray(t, collected(tenant), collected(tenant))
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.ContentLength = tt.declared
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("POST = %d, want %d:\n%s", rec.Code, tt.want, rec.Body.String())
			}
		})
	}
	if got := count(t, l, tenant); got != 4 {
		t.Fatalf("log holds %d events, want the 4 of the two good bodies", got)
	}
}

// failingSink is storage that is down.
type failingSink struct{ calls int }

func (s *failingSink) Accept(context.Context, []*event.Event) ([]ingest.Verdict, error) {
	s.calls++
	return nil, errors.New("clickhouse: connection refused at 10.1.2.3:9000")
}

func TestPost_SinkFailureIs503WithRetryAfterAndNothingAccepted(t *testing.T) {
	tests := []struct {
		name           string
		cfg            ingest.Config
		wantRetryAfter string
	}{
		{"default retry-after", ingest.Config{}, "5"},
		{"configured retry-after", ingest.Config{RetryAfterSeconds: 30}, "30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &failingSink{}
			h, reg := newHandler(t, tt.cfg, sink)
			bad := collected("down")
			badEvents[0].spoil(bad)
			a := post(t, h, "application/json", jsonArray(t, collected("down"), bad, collected("down")))
			if a.code != http.StatusServiceUnavailable {
				t.Fatalf("POST = %d, want 503:\n%s", a.code, a.raw)
			}
			if got := a.header.Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantRetryAfter)
			}
			if sink.calls != 1 {
				t.Errorf("sink called %d times, want 1", sink.calls)
			}
			if !strings.Contains(a.raw, `"accepted":0`) {
				t.Errorf("body does not say accepted 0:\n%s", a.raw)
			}
			if !strings.Contains(a.body.Error, "retry") {
				t.Errorf("error %q does not tell the client to retry", a.body.Error)
			}
			if strings.Contains(a.raw, "10.1.2.3") {
				t.Errorf("body leaks the storage error:\n%s", a.raw)
			}
			for _, v := range []ingest.Verdict{ingest.Accepted, ingest.Duplicate} {
				if n := eventsTotal(t, reg, v); n != 0 {
					t.Errorf("custody_ingest_events_total{verdict=%q} = %v after a sink failure, want 0", v, n)
				}
			}
		})
	}
}

func TestPost_NothingValidNeverReachesTheSink(t *testing.T) {
	sink := &failingSink{}
	h, _ := newHandler(t, ingest.Config{}, sink)
	bad := collected("down")
	badEvents[0].spoil(bad)
	a := post(t, h, "application/json", jsonArray(t, bad))
	if a.code != http.StatusUnprocessableEntity || sink.calls != 0 {
		t.Fatalf("POST of only bad events = %d with %d sink calls, want 422 and none:\n%s", a.code, sink.calls, a.raw)
	}
}

// eventsTotal reads custody_ingest_events_total{verdict} from reg.
func eventsTotal(t *testing.T, reg *prometheus.Registry, v ingest.Verdict) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "custody_ingest_events_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "verdict" && l.GetValue() == string(v) {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestPost_CountsEventsByVerdict(t *testing.T) {
	l := newEventLog(t)
	h, reg := newHandler(t, ingest.Config{}, ingest.LogSink{Log: l})
	bad := collected("metrics")
	badEvents[0].spoil(bad)
	batch := jsonArray(t, collected("metrics"), bad, shared("metrics"))
	steps := []struct {
		name                         string
		body                         []byte
		accepted, duplicate, rejects float64
	}{
		{"first delivery", batch, 2, 0, 1},
		{"redelivery", batch, 2, 2, 2},
		{"unreadable body", []byte("{"), 2, 2, 3},
	}
	for _, s := range steps {
		post(t, h, "application/json", s.body)
		for v, want := range map[ingest.Verdict]float64{ingest.Accepted: s.accepted, ingest.Duplicate: s.duplicate, ingest.Rejected: s.rejects} {
			if got := eventsTotal(t, reg, v); got != want {
				t.Errorf("after %s: custody_ingest_events_total{verdict=%q} = %v, want %v", s.name, v, got, want)
			}
		}
	}
}

func TestNewHandler_RefusesConfigurationThatCannotWork(t *testing.T) {
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	good := event.Options{Vocabulary: tax}
	tests := []struct {
		name    string
		cfg     ingest.Config
		opts    event.Options
		wantErr string
	}{
		{"body limit below 1 KiB", ingest.Config{MaxBodyBytes: 100}, good, "max_body_bytes"},
		{"negative event limit", ingest.Config{MaxEvents: -1}, good, "max_events"},
		{"negative retry-after", ingest.Config{RetryAfterSeconds: -1}, good, "retry_after_seconds"},
		{"no vocabulary", ingest.Config{}, event.Options{}, "Vocabulary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ingest.NewHandler(tt.cfg, tt.opts, storeNothing{t}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewHandler = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
	t.Run("metrics registered twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := ingest.NewHandler(ingest.Config{}, good, storeNothing{t}, slog.New(slog.DiscardHandler), reg); err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.NewHandler(ingest.Config{}, good, storeNothing{t}, slog.New(slog.DiscardHandler), reg); err == nil {
			t.Fatal("second handler on the same registry: want a registration error")
		}
	})
}

// Health that tells the truth (issue 17): while the log cannot be written
// ingest accepts nothing and says when to retry, instead of acknowledging
// events into a backlog; once it can, ingest accepts again.
func TestPost_WhileTheLogCannotBeWrittenNothingIsAccepted(t *testing.T) {
	l := newEventLog(t)
	h, _ := newHandler(t, ingest.Config{}, ingest.LogSink{Log: l})
	var down atomic.Bool
	down.Store(true)
	h.RequireWritable(func(context.Context) error {
		if down.Load() {
			return errors.New("appends failing (injected)")
		}
		return nil
	})
	body := ndjson(t, collected("unwritable"))
	a := post(t, h, "application/x-ndjson", body)
	if a.code != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || a.body.Accepted != 0 || !strings.Contains(a.body.Error, "cannot be written") {
		t.Fatalf("while unwritable: %d %q %+v", a.code, a.header.Get("Retry-After"), a.body)
	}
	if n, err := l.Count(context.Background(), "unwritable"); err != nil || n != 0 {
		t.Fatalf("the log holds %d events (%v) after a refused request", n, err)
	}
	down.Store(false)
	if a := post(t, h, "application/x-ndjson", body); a.code != http.StatusOK || a.body.Accepted != 1 {
		t.Fatalf("writable again: %d %+v", a.code, a.body)
	}
}
