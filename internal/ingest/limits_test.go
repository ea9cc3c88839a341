package ingest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/ingest"
)

// Issue 17: an event whose value was 9,000 nested arrays was accepted and
// made a report of 810 MB. POST /v1/events refuses it, and every event
// over a limit, with the field and the limit, before anything is stored.
func TestPost_EventsOverTheLimitsAreRefusedWithTheFieldAndTheLimit(t *testing.T) {
	h, _ := newHandler(t, ingest.Config{}, storeNothing{t})
	withValue := func(v any) object {
		e := collected("limits")
		dataOf(e)["elements"].([]any)[0].(object)["value"] = v
		return e
	}
	many := make([]any, event.MaxElements+1)
	for i := range many {
		many[i] = object{"name": "e", "category": "contact.email"}
	}
	tooMany := collected("limits")
	dataOf(tooMany)["elements"] = many
	tests := []struct {
		name   string
		event  object
		path   string
		reason string
	}{
		{"9,000 nested arrays", withValue(json.RawMessage(strings.Repeat("[", 9000) + strings.Repeat("]", 9000))),
			"data.elements[0].value", "nests arrays and objects more than 32 levels deep; at most 32 are allowed"},
		{"a value over 64 KiB", withValue(strings.Repeat("v", event.MaxValueBytes)), "data.elements[0].value", "is larger than 64 KiB"},
		{"1,001 elements", tooMany, "data.elements", "has 1001 items; at most 1000 are allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, h, "application/x-ndjson", ndjson(t, tt.event))
			if a.code != http.StatusUnprocessableEntity || a.body.Rejected != 1 || len(a.body.Results) != 1 {
				t.Fatalf("POST = %d, want 422 with one rejected event:\n%.500s", a.code, a.raw)
			}
			var found bool
			for _, e := range a.body.Results[0].Errors {
				found = found || e.Path == tt.path && strings.Contains(e.Reason, tt.reason)
			}
			if !found {
				t.Errorf("errors %v, want %s: %s", a.body.Results[0].Errors, tt.path, tt.reason)
			}
			if len(a.raw) > 2<<10 {
				t.Errorf("the answer is %d bytes: it must not echo the event", len(a.raw))
			}
		})
	}
}
