package eventlog

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// sealedForm must seal exactly the bytes json.Marshal did, which every
// stored row was sealed as.
func TestSealedForm_SameBytesAsJSONMarshal(t *testing.T) {
	tests := []struct {
		name   string
		values []json.RawMessage
	}{
		{"none", nil},
		{"empty slot", []json.RawMessage{nil}},
		{"strings and slots", []json.RawMessage{json.RawMessage(`"jane@example.com"`), nil, json.RawMessage(`"x"`)}},
		{"whitespace", []json.RawMessage{json.RawMessage(" {\n\t\"a\" : [1, 2 ,3 ] }\n")}},
		{"html", []json.RawMessage{json.RawMessage(`"<b>Tom & Jerry</b>"`), json.RawMessage(`{"k": ">"}`)}},
		{"line separators", []json.RawMessage{json.RawMessage("\"a\u2028b\u2029c\"")}},
		{"escapes kept", []json.RawMessage{json.RawMessage(`"\u003c \" \\ \n é 😀"`)}},
		{"numbers, bools, null", []json.RawMessage{json.RawMessage(`12.5e3`), json.RawMessage(`true`), json.RawMessage(`null`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameAsMarshal(t, tt.values)
		})
	}
	// Random values built from JSON's pieces, HTML characters included.
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{`"a"`, `"<"`, `"&amp;"`, "\"\u2028\"", `1`, `-0.5`, `true`, `null`, `"é"`, `""`}
	for range 2000 {
		n := rng.IntN(5)
		values := make([]json.RawMessage, n)
		for i := range values {
			switch rng.IntN(4) {
			case 0: // no value
			case 1:
				values[i] = json.RawMessage(pieces[rng.IntN(len(pieces))])
			case 2:
				values[i] = json.RawMessage("[ " + pieces[rng.IntN(len(pieces))] + " ,\n" + pieces[rng.IntN(len(pieces))] + " ]")
			default:
				values[i] = json.RawMessage(`{ "k" : ` + pieces[rng.IntN(len(pieces))] + ` }`)
			}
		}
		sameAsMarshal(t, values)
	}
}

func TestSealedForm_RefusesAValueThatIsNotJSON(t *testing.T) {
	for _, v := range []string{`{`, `"open`, `nul`, `1 2`} {
		if _, err := sealedForm([]json.RawMessage{json.RawMessage(`"ok"`), json.RawMessage(v)}); err == nil {
			t.Errorf("sealedForm accepted %q", v)
		}
	}
}

func sameAsMarshal(t *testing.T, values []json.RawMessage) {
	t.Helper()
	plain := make([]json.RawMessage, len(values))
	for i, v := range values {
		plain[i] = v
		if len(v) == 0 {
			plain[i] = json.RawMessage("null")
		}
	}
	want, err := json.Marshal(plain)
	if err != nil {
		t.Fatalf("json.Marshal(%q): %v", values, err)
	}
	got, err := sealedForm(values)
	if err != nil {
		t.Fatalf("sealedForm(%q): %v", values, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("sealedForm(%q)\n got %s\nwant %s", values, got, want)
	}
}

func BenchmarkSealedForm(b *testing.B) {
	values := []json.RawMessage{json.RawMessage(`"p12345@example.com"`), nil, json.RawMessage(`"+1 555 0100"`)}
	for b.Loop() {
		if _, err := sealedForm(values); err != nil {
			b.Fatal(err)
		}
	}
}
