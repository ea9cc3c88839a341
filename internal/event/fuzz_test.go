package event

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var fuzzContentTypes = []string{
	"",
	ContentTypeJSON,
	ContentTypeNDJSON,
	ContentTypeCloudEvents,
	ContentTypeCloudEventsBatch,
}

// FuzzDecodeBatch feeds arbitrary bodies to DecodeBatch under the fuzzed
// content type and every supported one, and checks its invariants: at least
// one result; each result has an Event or Errors, never both; indices run
// from 0; errors have reasons; and every accepted event survives
// MarshalJSON and Decode unchanged.
func FuzzDecodeBatch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, ContentTypeJSON)
	}
	f.Add([]byte(`[{"id":"0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10","type":"consent.changed","source":"s","time":"2026-03-01T12:00:00Z","subject":{"identifiers":[{"kind":"phone","value":"0046 70 123 45 67"}]},"data":{"choice":"sale","status":"opted_out","mechanism":"gpc"}}, 1, null]`), ContentTypeCloudEventsBatch)
	f.Add([]byte("{\"id\":1}\n\n{\"id\":\n[]\n"), ContentTypeNDJSON)
	f.Add([]byte(""), "")
	f.Add([]byte(`{"data":{"elements":[{"value":{"a":[1,2,{"b":null}]}}]}}`), "application/json; charset=latin1")
	opts := testOptions()
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, ct := range append([]string{contentType}, fuzzContentTypes...) {
			checkBatchInvariants(t, body, ct, opts)
		}
	})
}

func checkBatchInvariants(t *testing.T, body []byte, contentType string, opts Options) {
	results := DecodeBatch(body, contentType, opts)
	if len(results) == 0 {
		t.Fatalf("content type %q: no results", contentType)
	}
	for i, r := range results {
		if r.Index != i {
			t.Fatalf("content type %q: result %d has Index %d", contentType, i, r.Index)
		}
		if (r.Event == nil) == (len(r.Errors) == 0) {
			t.Fatalf("content type %q: result %d: Event %v with errors %v", contentType, i, r.Event != nil, r.Errors)
		}
		for _, e := range r.Errors {
			if e.Reason == "" {
				t.Fatalf("content type %q: result %d: error without reason at %q", contentType, i, e.Path)
			}
		}
		if r.Event == nil {
			continue
		}
		if r.ID != r.Event.ID.String() {
			t.Fatalf("result %d: ID %q, event id %s", i, r.ID, r.Event.ID)
		}
		out, err := json.Marshal(r.Event)
		if err != nil {
			t.Fatalf("result %d: MarshalJSON: %v", i, err)
		}
		again, errs := Decode(out, opts)
		if len(errs) > 0 {
			t.Fatalf("result %d: re-decoding the marshalled event failed: %v\n%s", i, errs, out)
		}
		if !reflect.DeepEqual(again, r.Event) {
			t.Fatalf("result %d: round trip changed the event\nraw: %q\nout: %s", i, r.Raw, out)
		}
	}
}
