package event

import (
	"encoding/json"
	"strings"
	"testing"
)

// nested returns a JSON value of depth arrays around 1 ([[1]] for 2), or of
// objects ({"a":{"a":1}}) when objects is true.
func nested(depth int, objects bool) json.RawMessage {
	if objects {
		return json.RawMessage(strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth))
	}
	return json.RawMessage(strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth))
}

// bracketBomb is the value of issue 17: 9,000 nested arrays, 18 KB.
var bracketBomb = json.RawMessage(strings.Repeat("[", 9000) + strings.Repeat("]", 9000))

func many(n int, item any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = item
	}
	return out
}

// Every limit of Limits refuses the event with an error at the field,
// naming the limit; what is within the limit is accepted.
func TestDecode_LimitsRefuseWithTheFieldAndTheLimit(t *testing.T) {
	el := map[string]any{"name": "e", "category": "contact.email"}
	internal := testOptions()
	internal.AllowInternalTypes = true
	request := func(extra any) []byte {
		return edited(t, "good/consent.json", set("type", "request.opened"),
			set("data", map[string]any{"request_id": "R-1", "kind": "know", "extra": extra}))
	}
	tight := testOptions()
	tight.Limits = Limits{MaxEventBytes: 2000, MaxElements: 2, MaxIdentifiers: 2, MaxValueBytes: 100, MaxValueDepth: 2}
	tests := []struct {
		name   string
		b      []byte
		opts   Options
		path   string // "" with reason "" means accepted
		reason string
	}{
		{"bracket bomb in a value", edited(t, "good/collected.json", set("data.elements[0].value", bracketBomb)), testOptions(),
			"data.elements[0].value", "nests arrays and objects more than 32 levels deep; at most 32 are allowed"},
		{"33 nested arrays", edited(t, "good/collected.json", set("data.elements[0].value", nested(33, false))), testOptions(),
			"data.elements[0].value", "more than 32 levels deep"},
		{"33 nested objects in an output", edited(t, "good/processed.json", set("data.outputs", []any{map[string]any{"name": "o", "category": "inference.preferences", "value": nested(33, true)}})), testOptions(),
			"data.outputs[0].value", "more than 32 levels deep"},
		{"32 nested arrays", edited(t, "good/collected.json", set("data.elements[0].value", nested(32, false))), testOptions(), "", ""},
		{"32 nested objects", edited(t, "good/collected.json", set("data.elements[0].value", nested(32, true))), testOptions(), "", ""},
		{"bracket bomb in a request's extra", request(map[string]any{"x": bracketBomb}), internal, "data.extra", "more than 32 levels deep"},
		{"bracket bomb in an unknown field", edited(t, "good/consent.json", set("data.note", bracketBomb)), testOptions(), "data.note", "unknown field `note`"},
		{"bracket bomb as the source", edited(t, "good/consent.json", set("source", bracketBomb)), testOptions(), "source", "must be a string, not array"},
		{"value over 64 KiB", edited(t, "good/collected.json", set("data.elements[0].value", strings.Repeat("v", MaxValueBytes))), testOptions(),
			"data.elements[0].value", "is larger than 64 KiB"},
		{"value of 64 KiB", edited(t, "good/collected.json", set("data.elements[0].value", strings.Repeat("v", MaxValueBytes-2))), testOptions(), "", ""},
		{"1001 elements", edited(t, "good/collected.json", set("data.elements", many(MaxElements+1, el))), testOptions(),
			"data.elements", "has 1001 items; at most 1000 are allowed"},
		{"1000 elements", edited(t, "good/collected.json", set("data.elements", many(MaxElements, el))), testOptions(), "", ""},
		{"600 inputs and 600 outputs", edited(t, "good/processed.json", set("data.inputs", many(600, el)), set("data.outputs", many(600, el))), testOptions(),
			"data", "has 1200 data elements in `inputs` and `outputs` together; at most 1000 are allowed in one event"},
		{"event over 256 KiB", edited(t, "good/collected.json", set("data.notice", strings.Repeat(" ", DefaultMaxEventBytes))), testOptions(),
			"", "event is larger than 256 KiB"},
		{"tight: value bytes", edited(t, "good/collected.json", set("data.elements[0].value", strings.Repeat("v", 99))), tight,
			"data.elements[0].value", "is larger than 100 bytes"},
		{"tight: value depth", edited(t, "good/collected.json", set("data.elements[0].value", nested(3, true))), tight,
			"data.elements[0].value", "more than 2 levels deep; at most 2 are allowed"},
		{"tight: elements", edited(t, "good/collected.json", set("data.elements", many(3, el))), tight,
			"data.elements", "at most 2 are allowed"},
		{"tight: identifiers", edited(t, "good/consent.json", set("subject.identifiers", []any{
			map[string]any{"kind": "email", "value": "a@example.com"}, map[string]any{"kind": "email", "value": "b@example.com"},
			map[string]any{"kind": "email", "value": "c@example.com"}})), tight,
			"subject.identifiers", "has 3 items; at most 2 are allowed"},
		{"tight: event bytes", edited(t, "good/consent.json", set("data.system", strings.Repeat("s", 1000)), set("source", strings.Repeat("s", 1000))), tight,
			"", "event is larger than 2000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, errs := Decode(tt.b, tt.opts)
			if tt.path == "" && tt.reason == "" {
				if len(errs) > 0 {
					t.Fatalf("refused within the limits: %v", errs)
				}
				return
			}
			if ev != nil || !hasError(errs, tt.path, tt.reason) {
				t.Fatalf("errors = %v, want %s: %s", errs, tt.path, tt.reason)
			}
			// The same verdict in a batch, as POST /v1/events decodes.
			res := DecodeBatch(tt.b, ContentTypeNDJSON, tt.opts)
			if len(res) != 1 || res[0].Event != nil || !hasError(res[0].Errors, tt.path, tt.reason) {
				t.Fatalf("batch: %+v", res)
			}
		})
	}
}

// The bracket bomb is refused without building its tree: the parser builds
// nodes only down to the depth values may reach, and scans the rest.
func TestDecode_DeepValuesAreScannedNotBuilt(t *testing.T) {
	opts := testOptions().withDefaults()
	for _, value := range []json.RawMessage{bracketBomb, nested(9000, true)} {
		b := edited(t, "good/collected.json", set("data.elements[0].value", value))
		var p treeParser
		if _, errs, _ := decodeEvent(b, &opts, &p); !hasError(errs, "data.elements[0].value", "more than 32 levels deep") {
			t.Fatalf("errors = %v", errs)
		}
		if !p.cut {
			t.Error("the parser built the whole tree")
		}
		// The good event has a few dozen nodes; the value adds at most the
		// levels down to the keep depth.
		if n := len(p.nodes); n > 200 {
			t.Errorf("the parser built %d nodes for one event", n)
		}
	}
}

// Events Custody stored before the depth limit existed stay readable: the
// limits of untrusted input do not apply to reading stored events back.
func TestEvent_UnmarshalJSONReadsStoredEventsBeyondTheInputLimits(t *testing.T) {
	for name, b := range map[string][]byte{
		"deep value":       edited(t, "good/collected.json", set("data.elements[0].value", nested(200, false))),
		"event of 300 KiB": edited(t, "good/collected.json", set("data.elements", many(5, map[string]any{"name": "e", "category": "contact.email", "value": strings.Repeat("v", 60<<10)}))),
		"1200 processed elements": edited(t, "good/processed.json", set("data.inputs", many(600, map[string]any{"name": "e", "category": "contact.email"})),
			set("data.outputs", many(600, map[string]any{"name": "e", "category": "contact.email"}))),
	} {
		t.Run(name, func(t *testing.T) {
			if _, errs := Decode(b, testOptions()); len(errs) == 0 {
				t.Fatal("accepted as input")
			}
			var ev Event
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatalf("stored event unreadable: %v", err)
			}
		})
	}
}

func TestOptions_ValidateNamesTheLimit(t *testing.T) {
	tests := []struct {
		limits Limits
		want   string // "" means valid
	}{
		{Limits{}, ""},
		{Limits{MaxEventBytes: MaxEventBytes, MaxElements: 1, MaxIdentifiers: 2, MaxValueBytes: 1, MaxValueDepth: 1}, ""},
		{Limits{MaxEventBytes: MaxEventBytes + 1}, "Options.Limits.MaxEventBytes must be 1024..1048576 (0 = default 262144), got 1048577"},
		{Limits{MaxEventBytes: 100}, "Options.Limits.MaxEventBytes"},
		{Limits{MaxElements: -1}, "Options.Limits.MaxElements must be 1..1000"},
		{Limits{MaxElements: MaxElements + 1}, "Options.Limits.MaxElements"},
		{Limits{MaxIdentifiers: 1}, "Options.Limits.MaxIdentifiers must be 2..50"},
		{Limits{MaxValueBytes: MaxValueBytes + 1}, "Options.Limits.MaxValueBytes"},
		{Limits{MaxValueDepth: MaxValueDepth + 1}, "Options.Limits.MaxValueDepth must be 1..32 (0 = default 32), got 33"},
	}
	for _, tt := range tests {
		err := Options{Vocabulary: AnyTerm, Limits: tt.limits}.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.limits, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: err = %v, want %q", tt.limits, err, tt.want)
		}
	}
}
