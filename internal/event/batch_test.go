package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// compact returns a corpus event on one line.
func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func withID(t *testing.T, name, id string, changes ...change) []byte {
	t.Helper()
	return compact(t, edited(t, name, append(changes, set("id", id))...))
}

const (
	id1 = "0193c6c4-7d1e-7c3a-9a55-3f4f2b1d0001"
	id2 = "0193c6c4-7d1e-7c3a-9a55-3f4f2b1d0002"
	id3 = "0193c6c4-7d1e-7c3a-9a55-3f4f2b1d0003"
)

func checkVerdicts(t *testing.T, results []Result, wantOK []bool) {
	t.Helper()
	if len(results) != len(wantOK) {
		t.Fatalf("%d results, want %d: %+v", len(results), len(wantOK), results)
	}
	for i, r := range results {
		if r.Index != i {
			t.Errorf("result %d has Index %d", i, r.Index)
		}
		if ok := r.Event != nil && len(r.Errors) == 0; ok != wantOK[i] {
			t.Errorf("result %d: accepted = %v, want %v (errors %v)", i, ok, wantOK[i], r.Errors)
		}
		if (r.Event == nil) == (len(r.Errors) == 0) {
			t.Errorf("result %d has both or neither of Event and Errors", i)
		}
	}
}

func TestDecodeBatch_AcceptsTheGoodEventsOfAMixedBatch(t *testing.T) {
	good1 := withID(t, "good/collected.json", id1)
	bad := withID(t, "good/shared.json", id2, set("data.recipient.role", "thrid_party"))
	good2 := withID(t, "good/consent.json", id3)
	array := []byte("[" + string(good1) + ",\n" + string(bad) + ",\n" + string(good2) + "]")
	ndjson := []byte(string(good1) + "\n" + string(bad) + "\n\n" + string(good2) + "\n")
	tests := []struct {
		name, contentType string
		body              []byte
	}{
		{"JSON array", "application/json", array},
		{"CloudEvents batch", "application/cloudevents-batch+json; charset=utf-8", array},
		{"NDJSON", "application/x-ndjson", ndjson},
		{"NDJSON sent as application/json", "application/json", ndjson},
		{"NDJSON with CRLF", "application/x-ndjson", bytes.ReplaceAll(ndjson, []byte("\n"), []byte("\r\n"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := DecodeBatch(tt.body, tt.contentType, testOptions())
			checkVerdicts(t, results, []bool{true, false, true})
			for i, want := range []string{id1, id2, id3} {
				if results[i].ID != want {
					t.Errorf("result %d: ID = %q, want %q", i, results[i].ID, want)
				}
			}
			if !hasError(results[1].Errors, "data.recipient.role", "did you mean `third_party`?") {
				t.Errorf("errors = %v", results[1].Errors)
			}
			if !bytes.Equal(compact(t, results[1].Raw), bad) {
				t.Errorf("Raw of the rejected event = %s", results[1].Raw)
			}
		})
	}
}

func TestDecodeBatch_MalformedNDJSONLineRejectsOnlyThatLine(t *testing.T) {
	body := string(withID(t, "good/collected.json", id1)) + "\n" +
		`{"id": "` + id2 + `", "type": "data.collected", "source": ` + "\n" +
		string(withID(t, "good/consent.json", id3)) + "\n"
	results := DecodeBatch([]byte(body), "application/x-ndjson", testOptions())
	checkVerdicts(t, results, []bool{true, false, true})
	if !strings.Contains(results[1].Errors[0].Reason, "malformed JSON") {
		t.Errorf("errors = %v", results[1].Errors)
	}
}

func TestDecodeBatch_SingleEvents(t *testing.T) {
	one := readCorpus(t, "good/collected.json") // pretty-printed over many lines
	for _, ct := range []string{"", "application/json", "application/cloudevents+json", "application/cloudevents+json; charset=UTF-8"} {
		t.Run(ct, func(t *testing.T) {
			checkVerdicts(t, DecodeBatch(one, ct, testOptions()), []bool{true})
		})
	}
}

func TestDecodeBatch_RejectsUnusableBodiesWithOneResult(t *testing.T) {
	event := string(compact(t, readCorpus(t, "good/consent.json")))
	tests := []struct {
		name, contentType, body, reason string
	}{
		{"empty body", "application/json", "  \n", "body is empty"},
		{"empty array", "application/json", "[ ]", "holds no events"},
		{"unsupported content type", "text/xml", event, "unsupported Content-Type"},
		{"malformed content type", "application/", event, "malformed Content-Type"},
		{"non-UTF-8 charset", "application/json; charset=latin1", event, "must be UTF-8"},
		{"array as a CloudEvents structured event", "application/cloudevents+json", "[" + event + "]", "carries one event"},
		{"object as a CloudEvents batch", "application/cloudevents-batch+json", event, "must be a JSON array"},
		{"JSON array sent as NDJSON", "application/x-ndjson", "[\n" + event + "\n]", "not NDJSON"},
		{"malformed single event", "application/json", "{\n\"id\": \n", "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := DecodeBatch([]byte(tt.body), tt.contentType, testOptions())
			checkVerdicts(t, results, []bool{false})
			if !strings.Contains(results[0].Errors[0].Reason, tt.reason) {
				t.Errorf("errors = %v, want %q", results[0].Errors, tt.reason)
			}
		})
	}
}

func TestDecodeBatch_MalformedArrayKeepsTheEventsBeforeTheError(t *testing.T) {
	good := string(withID(t, "good/consent.json", id1))
	results := DecodeBatch([]byte("["+good+", {\"id\": ]"), "application/json", testOptions())
	checkVerdicts(t, results, []bool{true, false})
	if !strings.Contains(results[1].Errors[0].Reason, "were not read") {
		t.Errorf("errors = %v", results[1].Errors)
	}
	results = DecodeBatch([]byte("["+good+"] trailing"), "application/json", testOptions())
	checkVerdicts(t, results, []bool{true, false})
}

func TestDecodeBatch_NonObjectItemsAreRejectedOneByOne(t *testing.T) {
	good := string(withID(t, "good/consent.json", id1))
	results := DecodeBatch([]byte("[1, "+good+", null, \"x\"]"), "application/json", testOptions())
	checkVerdicts(t, results, []bool{false, true, false, false})
}

func TestDecodeBatch_ReportsTheIDOfRejectedEvents(t *testing.T) {
	bad := withID(t, "good/consent.json", "0193C6C4-7D1E-7C3A-9A55-3F4F2B1D0001", del("source"))
	results := DecodeBatch(bad, "application/json", testOptions())
	if results[0].ID != id1 {
		t.Errorf("ID = %q, want the canonical form %q", results[0].ID, id1)
	}
	notUUID := withID(t, "good/consent.json", "evt-7")
	if results := DecodeBatch(notUUID, "", testOptions()); results[0].ID != "evt-7" {
		t.Errorf("ID = %q, want the id as sent", results[0].ID)
	}
}
