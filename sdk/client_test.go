package sdk

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestEmitRejectsInvalidEventsWithTheirPaths(t *testing.T) {
	tests := []struct {
		name       string
		ev         *Event
		path       string
		reasonPart string
	}{
		{"misspelt category", Collected(jane, CollectedData{
			Elements: []Element{Elem("email", "contact.emial")}, Origin: Origin{Kind: "consumer"},
			Purposes: []string{"order_fulfilment"}, System: "orders-db",
		}), "data.elements[0].category", "did you mean `contact.email`?"},
		{"missing purposes and system", Collected(jane, CollectedData{
			Elements: []Element{Elem("email", "contact.email")}, Origin: Origin{Kind: "consumer"},
		}), "data.purposes", "must be an array"},
		{"phone without country code", Collected(Person(Phone("555-0100")), CollectedData{
			Elements: []Element{Elem("phone", "contact.phone")}, Origin: Origin{Kind: "consumer"},
			Purposes: []string{"order_fulfilment"}, System: "orders-db",
		}), "subject.identifiers[0].value", "country"},
		{"value that is not JSON", Collected(jane, CollectedData{
			Elements: []Element{Elem("email", "contact.email"), ElemValue("score", "inference.risk_score", math.NaN())},
			Origin:   Origin{Kind: "consumer"}, Purposes: []string{"order_fulfilment"}, System: "orders-db",
		}), "data.elements[1].value", "cannot be encoded as JSON"},
		{"link of one identifier", Linked(Person(Email("jane@example.com"))), "subject.identifiers", "at least two"},
		{"tenant with capitals", order(1, WithTenant("Ink Cartridges")), "tenant", "lower-case"},
		{"unknown disclosure type", Shared(jane, SharedData{
			Recipient: Recipient{Name: "Ads", Kind: "advertising_network", Role: "third_party"},
			Elements:  []Element{Elem("email", "contact.email")}, Purposes: []string{"targeted_advertising"},
			Disclosure: "sold", System: "crm",
		}), "data.disclosure", "unknown disclosure type `sold`"},
		{"nil event", nil, "", "event is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			custody := newFakeCustody(t)
			c, _ := newTestClient(t, Config{}, custody.transport())
			err := c.Emit(context.Background(), order(0), tt.ev)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Emit = %v, want a *ValidationError", err)
			}
			if len(verr.Events) != 1 || verr.Events[0].Index != 1 || verr.Total != 2 {
				t.Fatalf("rejections %+v, want event 1 of 2", verr.Events)
			}
			found := false
			for _, fe := range verr.Events[0].Errors {
				if fe.Path == tt.path && strings.Contains(fe.Reason, tt.reasonPart) {
					found = true
				}
			}
			if !found {
				t.Errorf("errors %v lack %s: …%s…", verr.Events[0].Errors, tt.path, tt.reasonPart)
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), "none emitted") {
				t.Errorf("message %q does not name %s", err, tt.path)
			}
			if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			if n := custody.requestCount(); n != 0 {
				t.Errorf("%d requests sent; nothing of a rejected Emit may be", n)
			}
		})
	}
}

func TestEmitNeverLeaksValuesInErrors(t *testing.T) {
	c, _ := newTestClient(t, Config{}, newFakeCustody(t).transport())
	ev := Collected(Person(Phone("555-SECRET")), CollectedData{
		Elements: []Element{ElemValue("ssn", "government_id.ssnn", "078-05-1120")},
		Origin:   Origin{Kind: "consumer"}, Purposes: []string{"order_fulfilment"}, System: "db",
	})
	err := c.Emit(context.Background(), ev)
	if err == nil || strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "078-05") {
		t.Errorf("Emit = %v; want an error without identifier or element values", err)
	}
}

func TestEmitFillsClientDefaultsWithoutChangingTheCallersEvent(t *testing.T) {
	custody := newFakeCustody(t)
	c, _ := newTestClient(t, Config{Source: "checkout-service", Tenant: "inkcartridges"}, custody.transport())
	mine := order(1)
	other := order(2, WithTenant("default"), WithSource("web"))
	bare := &Event{Type: TypeSubjectLinked, Subject: Person(CookieID("ck"), UserID("u"))}
	if err := c.Emit(context.Background(), mine, other, bare); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := custody.events()
	if len(got) != 3 {
		t.Fatalf("custody received %d events, want 3", len(got))
	}
	if got[0].Source != "checkout-service" || got[0].Tenant != "inkcartridges" || got[0].ID != mine.ID {
		t.Errorf("event 0: source %q tenant %q id %s", got[0].Source, got[0].Tenant, got[0].ID)
	}
	if got[1].Source != "web" || got[1].Tenant != "default" {
		t.Errorf("event 1 options ignored: source %q tenant %q", got[1].Source, got[1].Tenant)
	}
	if got[2].ID == uuid.Nil || got[2].Time.IsZero() || got[2].Source != "checkout-service" {
		t.Errorf("bare event not completed: id %s time %s source %q", got[2].ID, got[2].Time, got[2].Source)
	}
	if id := got[0].Subject.Identifiers[0]; id.Value != "jane@example.com" {
		t.Errorf("identifier not normalised as Custody does")
	}
	if mine.Source != "" || mine.Tenant != "" || bare.ID != uuid.Nil {
		t.Error("Emit changed the caller's events")
	}
}

func TestSkipTaxonomyStillChecksStructure(t *testing.T) {
	c, _ := newTestClient(t, Config{SkipTaxonomy: true}, newFakeCustody(t).transport())
	unknownTerm := Collected(jane, CollectedData{
		Elements: []Element{Elem("vin", "vehicle.vin")}, Origin: Origin{Kind: "consumer"},
		Purposes: []string{"vehicle_recalls"}, System: "db",
	})
	if err := c.Emit(context.Background(), unknownTerm); err != nil {
		t.Errorf("Emit with SkipTaxonomy = %v, want the unknown terms left to the server", err)
	}
	noSystem := Collected(jane, CollectedData{Elements: []Element{Elem("vin", "vehicle.vin")}, Origin: Origin{Kind: "consumer"}, Purposes: []string{"x"}})
	var verr *ValidationError
	if err := c.Emit(context.Background(), noSystem); !errors.As(err, &verr) || verr.Events[0].Errors[0].Path != "data.system" {
		t.Errorf("Emit of an event without system = %v, want data.system required", err)
	}
}

func TestTaxonomyExtensionsAreKnownForTheirTenant(t *testing.T) {
	ext, err := LoadTaxonomyExtension(strings.NewReader(`
purposes:
  - key: vehicle_recalls
    name: Vehicle recalls
    description: To tell you about safety recalls for your vehicle.
`))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newTestClient(t, Config{TaxonomyExtensions: map[string]TaxonomyExtension{"cars": ext}}, newFakeCustody(t).transport())
	recall := func(opts ...Option) *Event {
		return Collected(jane, CollectedData{Elements: []Element{Elem("email", "contact.email")}, Origin: Origin{Kind: "consumer"},
			Purposes: []string{"vehicle_recalls"}, System: "db"}, opts...)
	}
	if err := c.Emit(context.Background(), recall(WithTenant("cars"))); err != nil {
		t.Errorf("tenant cars: %v", err)
	}
	if err := c.Emit(context.Background(), recall()); err == nil {
		t.Error("default tenant accepted another tenant's purpose")
	}
}

func TestBatchesBySize(t *testing.T) {
	custody := newFakeCustody(t)
	c, _ := newTestClient(t, Config{BatchSize: 10, FlushInterval: time.Hour}, custody.transport())
	for _, ev := range orders(25) {
		if err := c.Emit(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	custody.waitEvents(20, 5*time.Second) // full batches go without Flush
	if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := custody.batchSizes(); !slices.Equal(got, []int{10, 10, 5}) {
		t.Errorf("batches %v, want [10 10 5]", got)
	}
}

func TestBatchesByBytes(t *testing.T) {
	custody := newFakeCustody(t)
	c, _ := newTestClient(t, Config{BatchSize: 10, MaxBatchBytes: 1, FlushInterval: time.Hour}, custody.transport())
	if err := c.Emit(context.Background(), orders(3)...); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := custody.batchSizes(); !slices.Equal(got, []int{1, 1, 1}) {
		t.Errorf("batches %v, want one event each", got)
	}
}

func TestBatchesByTime(t *testing.T) {
	custody := newFakeCustody(t)
	c, _ := newTestClient(t, Config{BatchSize: 500, FlushInterval: 50 * time.Millisecond}, custody.transport())
	start := time.Now()
	if err := c.Emit(context.Background(), orders(3)...); err != nil {
		t.Fatal(err)
	}
	custody.waitEvents(3, 5*time.Second) // no Flush
	if d := time.Since(start); d < 45*time.Millisecond {
		t.Errorf("sent after %s, before FlushInterval elapsed", d)
	}
	if got := custody.batchSizes(); !slices.Equal(got, []int{3}) {
		t.Errorf("batches %v, want [3]", got)
	}
}

func TestRetriesWhenStorageIsUnavailable(t *testing.T) {
	custody := newFakeCustody(t)
	custody.storageDown = 2 // the real handler answers 503 with Retry-After: 1
	sleeper := &recordingSleeper{}
	cfg := Config{RetryBase: 10 * time.Millisecond, RetryMax: time.Hour}
	cfg.sleep = sleeper.sleep
	cfg.jitter = func(ceiling time.Duration) time.Duration { return ceiling }
	c, errs := newTestClient(t, cfg, custody.transport())
	ev := order(1)
	if err := c.Emit(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatalf("Flush = %v, want delivered after retries", err)
	}
	if n := custody.requestCount(); n != 3 {
		t.Errorf("%d requests, want 3 (two 503s, then success)", n)
	}
	if got := custody.events(); len(got) != 1 || got[0].ID != ev.ID {
		t.Errorf("custody holds %d events, want the one event once", len(got))
	}
	// Retry-After: 1 outweighs the jittered backoff (10 ms, 20 ms).
	if got := sleeper.list(); !slices.Equal(got, []time.Duration{time.Second, time.Second}) {
		t.Errorf("slept %v, want Retry-After's 1s twice", got)
	}
	if l := errs.list(); len(l) != 0 {
		t.Errorf("OnError got %v for a batch that was delivered", l)
	}
}

func TestRetryBacksOffExponentiallyWithJitter(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"500", http.StatusInternalServerError},
		{"502", http.StatusBadGateway},
		{"503 without Retry-After", http.StatusServiceUnavailable},
		{"429 without Retry-After", http.StatusTooManyRequests},
		{"408", http.StatusRequestTimeout},
		{"connection reset", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			custody := newFakeCustody(t)
			custody.setIntercept(func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n > 3 {
					return false
				}
				if tt.status == 0 {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return true
				}
				w.WriteHeader(tt.status)
				return true
			})
			sleeper := &recordingSleeper{}
			cfg := Config{RetryBase: 100 * time.Millisecond, RetryMax: 250 * time.Millisecond}
			cfg.sleep = sleeper.sleep
			cfg.jitter = func(ceiling time.Duration) time.Duration { return ceiling } // the upper bound of full jitter
			c, _ := newTestClient(t, cfg, custody.transport())
			if err := c.Emit(context.Background(), order(1)); err != nil {
				t.Fatal(err)
			}
			if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatalf("Flush = %v", err)
			}
			want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond}
			if got := sleeper.list(); !slices.Equal(got, want) {
				t.Errorf("backoff ceilings %v, want %v (doubling, capped by RetryMax)", got, want)
			}
			if got := len(custody.events()); got != 1 {
				t.Errorf("custody holds %d events, want 1", got)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	custody := newFakeCustody(t)
	custody.setIntercept(func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > 1 {
			return false
		}
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	c, _ := newTestClient(t, Config{RetryBase: time.Millisecond, RetryMax: 10 * time.Second}, custody.transport())
	if err := c.Emit(context.Background(), order(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	hits := custody.hitTimes()
	if len(hits) != 2 {
		t.Fatalf("%d requests, want 2", len(hits))
	}
	if gap := hits[1].Sub(hits[0]); gap < 950*time.Millisecond {
		t.Errorf("retried after %s, want at least Retry-After's 1s", gap)
	}
}

func TestBackoff(t *testing.T) {
	cfg := Config{Source: "s", RetryBase: 200 * time.Millisecond, RetryMax: 30 * time.Second}.withDefaults()
	cfg.jitter = func(ceiling time.Duration) time.Duration { return ceiling }
	tests := []struct {
		n          int
		retryAfter time.Duration
		want       time.Duration
	}{
		{0, 0, 200 * time.Millisecond},
		{1, 0, 400 * time.Millisecond},
		{5, 0, 6400 * time.Millisecond},
		{8, 0, 30 * time.Second},
		{100, 0, 30 * time.Second},
		{0, 5 * time.Second, 5 * time.Second},
		{0, time.Hour, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := cfg.backoff(tt.n, tt.retryAfter); got != tt.want {
			t.Errorf("backoff(%d, %s) = %s, want %s", tt.n, tt.retryAfter, got, tt.want)
		}
	}
	cfg.jitter = fullJitter
	for range 1000 {
		if d := cfg.backoff(3, 0); d < 0 || d > 1600*time.Millisecond {
			t.Fatalf("jittered backoff %s outside [0, 1.6s]", d)
		}
	}
}

func TestPermanentFailuresAreReportedNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"400", http.StatusBadRequest},
		{"401", http.StatusUnauthorized},
		{"403", http.StatusForbidden},
		{"413", http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			custody := newFakeCustody(t)
			custody.setIntercept(func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"accepted":0,"duplicates":0,"rejected":0,"error":"nope"}`))
				return true
			})
			c, errs := newTestClient(t, Config{}, custody.transport())
			evs := orders(2)
			if err := c.Emit(context.Background(), evs...); err != nil {
				t.Fatal(err)
			}
			flushErr := c.Flush(ctxTimeout(t, 5*time.Second))
			var derr *DeliveryError
			if !errors.As(flushErr, &derr) {
				t.Fatalf("Flush = %v, want a *DeliveryError", flushErr)
			}
			var serr *SendError
			if !errors.As(derr, &serr) || serr.StatusCode != tt.status || serr.Retryable {
				t.Errorf("cause %v, want permanent status %d", derr.Err, tt.status)
			}
			if derr.Attempts != 1 || custody.requestCount() != 1 {
				t.Errorf("%d attempts, %d requests; want 1, no retry", derr.Attempts, custody.requestCount())
			}
			if !slices.Equal(derr.IDs, []uuid.UUID{evs[0].ID, evs[1].ID}) {
				t.Errorf("failed ids %v, want both events", derr.IDs)
			}
			if !strings.Contains(derr.Error(), "nope") {
				t.Errorf("message %q lacks the server's reason", derr)
			}
			if got := errs.list(); len(got) != 1 || got[0] != error(derr) {
				t.Errorf("OnError got %v, want the same failure once", got)
			}
			if err := c.Flush(ctxTimeout(t, time.Second)); err != nil {
				t.Errorf("second Flush = %v; each failure is returned once", err)
			}
		})
	}
}

func TestRejectedEventsAreReportedWithFieldErrors(t *testing.T) {
	badCategory := func() *Event {
		return Collected(jane, CollectedData{Elements: []Element{Elem("vin", "vehicle.vin")}, Origin: Origin{Kind: "consumer"},
			Purposes: []string{"order_fulfilment"}, System: "db"})
	}
	tests := []struct {
		name      string
		events    []*Event
		bad       []int // indexes Custody rejects
		delivered int
	}{
		{"422: every event refused", []*Event{badCategory(), badCategory()}, []int{0, 1}, 0},
		{"207: the good ones are kept", []*Event{order(1), badCategory(), order(2)}, []int{1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			custody := newFakeCustody(t)
			// The client skips taxonomy checks, the real handler does not.
			c, errs := newTestClient(t, Config{SkipTaxonomy: true}, custody.transport())
			if err := c.Emit(context.Background(), tt.events...); err != nil {
				t.Fatal(err)
			}
			flushErr := c.Flush(ctxTimeout(t, 5*time.Second))
			var derr *DeliveryError
			if !errors.As(flushErr, &derr) {
				t.Fatalf("Flush = %v, want a *DeliveryError", flushErr)
			}
			if len(derr.Rejected) != len(tt.bad) {
				t.Fatalf("rejected %+v, want %d", derr.Rejected, len(tt.bad))
			}
			for i, r := range derr.Rejected {
				ev := tt.events[tt.bad[i]]
				if r.ID != ev.ID.String() || derr.IDs[i] != ev.ID || r.Index != tt.bad[i] {
					t.Errorf("rejection %d: %+v, want event %d (%s)", i, r, tt.bad[i], ev.ID)
				}
				if len(r.Errors) == 0 || r.Errors[0].Path != "data.elements[0].category" {
					t.Errorf("rejection %d errors %v, want data.elements[0].category", i, r.Errors)
				}
			}
			if !strings.Contains(derr.Error(), "data.elements[0].category: unknown category `vehicle.vin`") {
				t.Errorf("message %q lacks the field error", derr)
			}
			if n := custody.requestCount(); n != 1 {
				t.Errorf("%d requests; rejected events must not be retried", n)
			}
			if got := len(custody.events()); got != tt.delivered {
				t.Errorf("custody holds %d events, want %d", got, tt.delivered)
			}
			if len(errs.list()) != 1 {
				t.Errorf("OnError got %d errors, want 1", len(errs.list()))
			}
		})
	}
}

func TestFailedBatchIsReportedAfterMaxRetries(t *testing.T) {
	custody := newFakeCustody(t)
	custody.storageDown = 1000
	c, errs := newTestClient(t, Config{MaxRetries: 2}, custody.transport())
	if err := c.Emit(context.Background(), orders(3)...); err != nil {
		t.Fatal(err)
	}
	flushErr := c.Flush(ctxTimeout(t, 5*time.Second))
	var derr *DeliveryError
	if !errors.As(flushErr, &derr) || derr.Attempts != 3 || len(derr.IDs) != 3 {
		t.Fatalf("Flush = %v, want the 3 events failed after 3 attempts", flushErr)
	}
	var serr *SendError
	if !errors.As(flushErr, &serr) || serr.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("cause %v, want the last 503", derr.Err)
	}
	if n := custody.requestCount(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if len(errs.list()) != 1 {
		t.Errorf("OnError got %d errors, want 1", len(errs.list()))
	}
}

func TestNoRetriesWhenMaxRetriesIsNegative(t *testing.T) {
	custody := newFakeCustody(t)
	custody.storageDown = 1000
	c, _ := newTestClient(t, Config{MaxRetries: -1}, custody.transport())
	if err := c.Emit(context.Background(), order(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctxTimeout(t, 5*time.Second)); err == nil || custody.requestCount() != 1 {
		t.Errorf("Flush = %v after %d requests, want a failure after 1", err, custody.requestCount())
	}
}

// blockCustody makes every request wait until the returned func is called.
func blockCustody(t *testing.T, custody *fakeCustody) (release func()) {
	gate := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	custody.setIntercept(func(_ int, _ http.ResponseWriter, r *http.Request) bool {
		select {
		case <-gate:
		case <-r.Context().Done():
			return true
		}
		return false
	})
	t.Cleanup(release)
	return release
}

func TestEmitReturnsErrBufferFullAtOnce(t *testing.T) {
	custody := newFakeCustody(t)
	release := blockCustody(t, custody)
	c, _ := newTestClient(t, Config{BatchSize: 5, BufferSize: 10, FlushInterval: time.Millisecond}, custody.transport())
	for i := range 10 {
		if err := c.Emit(context.Background(), order(i)); err != nil {
			t.Fatalf("Emit %d = %v", i, err)
		}
	}
	start := time.Now()
	err := c.Emit(context.Background(), order(10))
	if !errors.Is(err, ErrBufferFull) {
		t.Fatalf("Emit into a full buffer = %v, want ErrBufferFull", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Emit took %s; it must not wait", d)
	}
	if err := c.Emit(context.Background(), orders(11)...); !errors.Is(err, ErrBufferFull) {
		t.Errorf("Emit of more than the buffer = %v, want ErrBufferFull", err)
	}
	release()
	if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := len(custody.events()); got != 10 {
		t.Errorf("custody holds %d events, want the 10 buffered", got)
	}
	if err := c.Emit(context.Background(), order(11)); err != nil {
		t.Errorf("Emit after the buffer drained = %v", err)
	}
}

func TestCloseDeliversEverythingPending(t *testing.T) {
	custody := newFakeCustody(t)
	c, _ := newTestClient(t, Config{BatchSize: 3, FlushInterval: time.Hour}, custody.transport())
	if err := c.Emit(context.Background(), orders(7)...); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := custody.batchSizes(); !slices.Equal(got, []int{3, 3, 1}) {
		t.Errorf("batches %v, want [3 3 1]", got)
	}
	select {
	case <-c.stopped:
	default:
		t.Error("sender still running after Close")
	}
}

func TestEmitAfterCloseFails(t *testing.T) {
	c, _ := newTestClient(t, Config{}, newFakeCustody(t).transport())
	if err := c.Close(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.Emit(context.Background(), order(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Emit after Close = %v, want ErrClosed", err)
	}
	if err := c.Flush(ctxTimeout(t, time.Second)); err != nil {
		t.Errorf("Flush after Close = %v", err)
	}
	if err := c.Close(ctxTimeout(t, time.Second)); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestCloseAndFlushHonourTheirContext(t *testing.T) {
	custody := newFakeCustody(t)
	blockCustody(t, custody)
	c, errs := newTestClient(t, Config{}, custody.transport())
	evs := orders(2)
	if err := c.Emit(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Flush(ctxTimeout(t, 50*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush = %v, want the deadline", err)
	}
	if err := c.Close(ctxTimeout(t, 50*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Flush and Close took %s", d)
	}
	// Giving up cancels the delivery; the events are reported, not lost.
	got := errs.wait(t, 1, 5*time.Second)
	var derr *DeliveryError
	if !errors.As(got[0], &derr) || len(derr.IDs) != 2 || !errors.Is(derr, context.Canceled) {
		t.Errorf("OnError got %v, want both events failed by the cancellation", got[0])
	}
}

func TestConcurrentEmit(t *testing.T) {
	custody := newFakeCustody(t)
	c, errs := newTestClient(t, Config{BatchSize: 64, FlushInterval: 5 * time.Millisecond, BufferSize: 5000}, custody.transport())
	const goroutines, each = 32, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := c.Emit(context.Background(), order(g*each+i)); err != nil {
					t.Error(err)
					return
				}
				if i%20 == 0 {
					if err := c.Flush(ctxTimeout(t, 5*time.Second)); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := c.Close(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	ids := map[uuid.UUID]bool{}
	for _, e := range custody.events() {
		ids[e.ID] = true
	}
	if len(ids) != goroutines*each {
		t.Errorf("custody holds %d distinct events, want %d", len(ids), goroutines*each)
	}
	for _, n := range custody.batchSizes() {
		if n > 64 {
			t.Errorf("batch of %d exceeds BatchSize", n)
		}
	}
	if l := errs.list(); len(l) > 0 {
		t.Errorf("OnError: %v", l)
	}
}

// scriptedTransport fails with the given errors, then succeeds.
type scriptedTransport struct {
	mu    sync.Mutex
	errs  []error
	calls int
}

func (s *scriptedTransport) Send(context.Context, []*Event) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return Result{}, err
	}
	return Result{}, nil
}

func TestCustomTransportErrorsAreRetriedUnlessPermanent(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCalls int
		wantFail  bool
	}{
		{"plain error is retried", errors.New("boom"), 2, false},
		{"Permanent is not", Permanent(errors.New("bad credentials")), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &scriptedTransport{errs: []error{tt.err}}
			c, _ := newTestClient(t, Config{}, tr)
			if err := c.Emit(context.Background(), order(1)); err != nil {
				t.Fatal(err)
			}
			err := c.Flush(ctxTimeout(t, 5*time.Second))
			if (err != nil) != tt.wantFail || tr.calls != tt.wantCalls {
				t.Errorf("Flush = %v after %d calls, want failure %t after %d", err, tr.calls, tt.wantFail, tt.wantCalls)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"defaults", Config{Source: "checkout-service"}, ""},
		{"no source", Config{}, "Source is required"},
		{"padded source", Config{Source: " web "}, "surrounding spaces"},
		{"bad tenant", Config{Source: "s", Tenant: "Ink"}, "Config.Tenant"},
		{"batch too large", Config{Source: "s", BatchSize: 10_001}, "BatchSize"},
		{"negative batch", Config{Source: "s", BatchSize: -1}, "BatchSize"},
		{"buffer below batch", Config{Source: "s", BatchSize: 100, BufferSize: 10}, "BufferSize"},
		{"big batch raises default buffer", Config{Source: "s", BatchSize: 10_000}, ""},
		{"negative interval", Config{Source: "s", FlushInterval: -time.Second}, "FlushInterval"},
		{"max below base", Config{Source: "s", RetryBase: time.Second, RetryMax: time.Millisecond}, "RetryMax"},
		{"invalid extension", Config{Source: "s", TaxonomyExtensions: map[string]TaxonomyExtension{"t": {Purposes: []TaxonomyPurpose{{Key: "Bad Key"}}}}}, "TaxonomyExtensions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error about %s", err, tt.want)
			}
		})
	}
}

func TestNewChecksTheTransport(t *testing.T) {
	tests := []struct {
		name string
		tr   Transport
		want string
	}{
		{"none", nil, "Transport is required"},
		{"http without URL", &HTTPTransport{}, "HTTPTransport.URL"},
		{"http with a bare host", &HTTPTransport{URL: "custody:8080"}, "HTTPTransport.URL"},
		{"broker without publisher", &BrokerTransport{Topic: "events"}, "Publisher is required"},
		{"broker without topic", &BrokerTransport{Publisher: &flakyPublisher{}}, "Topic is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(Config{Source: "s"}, tt.tr); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error about %s", err, tt.want)
			}
		})
	}
}
