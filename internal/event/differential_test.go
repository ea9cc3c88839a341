package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The decoder must answer exactly as the reference (reference_test.go, the
// decoder before the single-pass parser) on every body: the same verdicts,
// the same field errors in the same order, the same events and ids, under
// every framing. The bodies are the corpus, every edit of every member of
// every good event (deleted, replaced by each kind of value, wrong names,
// duplicates, unknown taxonomy terms and identifiers), syntax errors of
// every kind the parser must find itself, and seeded random byte edits.

// diffValues replace a member in turn; the strings cover unknown terms,
// bad identifiers and times, escapes, control characters and long text.
var diffValues = []string{
	`null`, `true`, `false`, `0`, `-1.5e3`, `1e999`, `123456789012345678901234567890`, `""`, `"  "`, `"x"`,
	`"contact.emial"`, `"Contact.Email"`, `"order_fulfilment"`, `"thrid_party"`, `"de"`, `"DE"`, `"XX"`,
	`"2026-03-01T12:00:00+01:00"`, `"2026-03-01 12:00:00"`, `"2099-01-01T00:00:00Z"`, `"1899-12-31T23:59:59Z"`,
	`"0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e1"`, `"00000000-0000-0000-0000-000000000000"`, `"{0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10}"`,
	`"data.collected"`, `"subject.linked"`, `"rights.requested"`, `"access.recorded"`, `"data.colected"`,
	`"line\nbreak"`, `"caf\u00e9 \u2028 <&>"`, `"\ud800"`, `"tab\there"`, `"a\"b"`, `"\/"`,
	`[]`, `{}`, `[1,2]`, `["contact.email","contact.email"]`, `["x",null]`, `{"x":1}`, `{"kind":"email"}`,
	`[{"kind":"email","value":"a@b.example"},{"kind":"email","value":"A@B.example"}]`,
	`[{"kind":"external","value":"v"}]`, `[{"kind":"external","namespace":"crm","value":"v"}]`,
	`[{"kind":"phone","value":"not a phone"}]`, `[{"kind":"email","namespace":"x","value":"a@b.example"}]`,
	`[{"kind":"device_id","value":""}]`, `[{"kind":"emial","value":"x"}]`,
	`[{"name":"n","category":"contact.emial","value":{"a":[1,2,{"b":null}]}}]`,
	`[{"name":"n","category":"contact.email","value":"<script>&</script>"}]`,
	`[{"name":"n","category":"contact.email","value":null,"extra":1}]`,
	`"` + strings.Repeat("long ", 300) + `"`, `"` + strings.Repeat("é", 600) + `"`,
	// At and past the nesting limit of values (32), and far past the depth
	// the parser builds.
	strings.Repeat("[", 32) + strings.Repeat("]", 32), strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33),
	strings.Repeat("[", 300) + strings.Repeat("]", 300),
}

// diffBytes are the bytes random edits insert: JSON's punctuation, parts
// of numbers and literals, a control character and a stray UTF-8 byte.
const diffBytes = "{}[],:\"\\ 0-e.tnu\x01\x80"

// diffBodies returns the bodies the differential test decodes, each one
// event or line.
func diffBodies(t testing.TB) [][]byte {
	var out [][]byte
	add := func(b []byte) { out = append(out, b) }
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*", "*.json"))
	if len(files) < 50 {
		t.Fatalf("only %d corpus files", len(files))
	}
	var goods [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		add(b)
		var c bytes.Buffer
		if json.Compact(&c, b) == nil {
			add(c.Bytes())
			if strings.Contains(name, "good") {
				goods = append(goods, c.Bytes())
			}
		}
	}
	for _, g := range goods {
		var root any
		dec := json.NewDecoder(bytes.NewReader(g))
		dec.UseNumber()
		if err := dec.Decode(&root); err != nil {
			t.Fatal(err)
		}
		for _, p := range diffPaths(root, nil) {
			add(diffMarshal(t, diffEdit(root, p, nil, true)))
			for _, v := range diffValues {
				add(diffMarshal(t, diffEdit(root, p, json.RawMessage(v), false)))
			}
		}
		// Unknown, special and duplicate members in every object, spliced
		// in as text: a map cannot hold a duplicate.
		for i := range g {
			if g[i] != '{' {
				continue
			}
			for _, m := range []string{`"recordedat":"x",`, `"Kind":"email",`, `"elemnts":[],`, `"name":"dup",`,
				`"id":"0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10",`, `"data_base64":"AA==",`, `"caf\u00e9":1,`, `"` + strings.Repeat("k", 70) + `":1,`} {
				add(splice(g, i+1, 0, m))
			}
		}
		out = append(out, syntaxEdits(g)...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		g := goods[rng.IntN(len(goods))]
		b := append([]byte(nil), g...)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(b))
			switch rng.IntN(4) {
			case 0:
				b[i] = byte(rng.IntN(256))
			case 1:
				b = splice(b, i, 1, "")
			case 2:
				b = splice(b, i, 0, diffBytes[rng.IntN(len(diffBytes)):][:1])
			default:
				b[i] = diffBytes[rng.IntN(len(diffBytes)-1)]
			}
		}
		add(b)
	}
	return out
}

// syntaxEdits breaks g in every way the parser has to notice itself.
func syntaxEdits(g []byte) [][]byte {
	var out [][]byte
	for i := 0; i < len(g); i += 3 {
		out = append(out, g[:i:i]) // truncated
	}
	for _, tail := range []string{"x", " x", "}", "]", ",", " {}", "\x00", "\n{}", "\xff", " \t\r\n"} {
		out = append(out, append(g[:len(g):len(g)], tail...))
	}
	// Every value position: replace the first value of `"source":` with
	// each malformed or borderline token.
	i := bytes.Index(g, []byte(`"source":`))
	if i >= 0 {
		i += len(`"source":`)
		j := i + bytes.IndexAny(g[i+1:], `"`) + 2
		for _, tok := range []string{
			`01`, `1.`, `-`, `1e`, `1e+`, `.5`, `+1`, `-0`, `0.0e-0`, `1E+2`, `-01`, `0x1`, `1_0`, `Infinity`, `NaN`,
			`tru`, `truex`, `nul`, `nulls`, `fals`, `True`, `"\x01"`, `"\x7f"`, `"\xc3"`, `"\xed\xa0\x80"`, `"\u12"`, `"\u12g4"`,
			`"\x"`, `"\`, `"abc`, `"a\u00e9b"`, `[1,]`, `[,1]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a" 1}`, `[1 2]`,
			`[`, `{`, `]`, `}`, `""""`, `"a""b"`, `/*c*/"x"`, `'x'`, "\"x\"\u00a0", `"` + strings.Repeat(`\n`, 700) + `"`,
			strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
			strings.Repeat(`{"a":`, 9999) + "1" + strings.Repeat("}", 9999), strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
			strings.Repeat("[", 10001),
		} {
			out = append(out, splice(g, i, j-i, tok))
		}
	}
	out = append(out, []byte(strings.Repeat("[", 10000)+strings.Repeat("]", 10000)), []byte(strings.Repeat("[", 10001)+strings.Repeat("]", 10001)),
		[]byte(""), []byte(" "), []byte("null"), []byte("1"), []byte(`"x"`), []byte("[]"), []byte("{}"), []byte("\xef\xbb\xbf{}"),
		[]byte("{} {}"), []byte("{}\n{}"), bytes.Repeat([]byte(" "), MaxEventBytes+1))
	return out
}

func splice(b []byte, at, del int, ins string) []byte {
	out := append([]byte(nil), b[:at]...)
	out = append(out, ins...)
	return append(out, b[at+del:]...)
}

// diffPaths lists the paths of every member and element under v.
func diffPaths(v any, prefix []any) [][]any {
	var out [][]any
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := append(prefix[:len(prefix):len(prefix)], k)
			out = append(append(out, p), diffPaths(c, p)...)
		}
	case []any:
		for i, c := range x {
			p := append(prefix[:len(prefix):len(prefix)], i)
			out = append(append(out, p), diffPaths(c, p)...)
		}
	}
	return out
}

// diffEdit returns a copy of v with the value at path replaced or deleted.
func diffEdit(v any, path []any, to any, del bool) any {
	if len(path) == 0 {
		return to
	}
	switch x := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = e
		}
		k := path[0].(string)
		if del && len(path) == 1 {
			delete(c, k)
		} else {
			c[k] = diffEdit(x[k], path[1:], to, del)
		}
		return c
	case []any:
		i := path[0].(int)
		c := append([]any(nil), x...)
		if del && len(path) == 1 {
			return append(c[:i], c[i+1:]...)
		}
		c[i] = diffEdit(x[i], path[1:], to, del)
		return c
	}
	return v
}

func diffMarshal(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func sameResults(t *testing.T, what string, got, want []Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s: result %d:\n got %+v %v\nwant %+v %v", what, i, got[i], got[i].Event, want[i], want[i].Event)
		}
	}
}

func TestDecode_SameAsReference(t *testing.T) {
	bodies := diffBodies(t)
	opts := testOptions()
	trusted := Options{Vocabulary: AnyTerm, AllowInternalTypes: true, trusted: true}.withDefaults()
	internal := testOptions()
	internal.AllowInternalTypes = true
	accepted, kinds := 0, map[string]int{}
	for n, b := range bodies {
		what := fmt.Sprintf("body %d %.200q", n, b)
		for _, o := range []Options{opts, internal} {
			ev, errs := Decode(b, o)
			rev, rerrs := refDecode(b, o)
			if !reflect.DeepEqual(ev, rev) || !reflect.DeepEqual(errs, rerrs) {
				t.Fatalf("%s: Decode\n got %v %v\nwant %v %v", what, ev, errs, rev, rerrs)
			}
			if ev != nil {
				accepted++
			}
			for _, e := range errs {
				kinds[e.Path+": "+e.Reason]++
			}
		}
		ev, errs, id := decodeEvent(b, &trusted, new(treeParser))
		rev, rerrs, rid := refDecodeEvent(b, &trusted)
		if !reflect.DeepEqual(ev, rev) || !reflect.DeepEqual(errs, rerrs) || id != rid {
			t.Fatalf("%s: trusted decode\n got %v %v %q\nwant %v %v %q", what, ev, errs, id, rev, rerrs, rid)
		}
		for _, ct := range []string{"", ContentTypeCloudEvents, ContentTypeCloudEventsBatch} {
			sameResults(t, what+" as "+ct, DecodeBatch(b, ct, opts), refDecodeBatch(b, ct, opts))
		}
	}
	// Whole batches, so that one parser's reused slabs meet every kind of
	// line in turn: results of earlier lines must survive later ones.
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range 200 {
		var nd, arr bytes.Buffer
		arr.WriteByte('[')
		for j := range 50 {
			b := bodies[rng.IntN(len(bodies))]
			if len(b) > 4096 {
				b = b[:4096]
			}
			nd.Write(b)
			nd.WriteByte('\n')
			if j > 0 {
				arr.WriteByte(',')
			}
			arr.Write(b)
		}
		arr.WriteByte(']')
		for _, ct := range []string{"", ContentTypeNDJSON} {
			sameResults(t, fmt.Sprintf("NDJSON batch %d as %q", k, ct), DecodeBatch(nd.Bytes(), ct, opts), refDecodeBatch(nd.Bytes(), ct, opts))
		}
		sameResults(t, fmt.Sprintf("array batch %d", k), DecodeBatch(arr.Bytes(), ContentTypeCloudEventsBatch, opts), refDecodeBatch(arr.Bytes(), ContentTypeCloudEventsBatch, opts))
	}
	good := benchNDJSON(2000)
	sameResults(t, "benchmark body", DecodeBatch(good, ContentTypeNDJSON, opts), refDecodeBatch(good, ContentTypeNDJSON, opts))
	t.Logf("%d bodies, %d decodes accepted, %d distinct errors", len(bodies), accepted, len(kinds))
	if accepted < 1000 || len(kinds) < 300 {
		t.Fatalf("the bodies cover too little: %d accepted, %d distinct errors", accepted, len(kinds))
	}
}

// The hand-written matchers must agree with the regular expressions they
// replaced, on the strings near each format's edges.
func TestPatterns_SameAsRegexps(t *testing.T) {
	seeds := []string{
		"0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10", "0193C6C4-7D1E-7C3A-9A55-3F4F2B1D9E10",
		"2026-03-01T12:00:00Z", "2026-03-01T12:00:00.123456789+01:00", "2026-03-01T12:00:00.1234567890Z", "2026-03-01T12:00:00.Z",
		"2026-03-01T12:00:00-00:00", "2026-03-01t12:00:00z", "2026-03-01T12:00:00+0100",
		"default", "ink_cartridges-2", strings.Repeat("a", 64), strings.Repeat("a", 65), "", "A", "é",
	}
	rng := rand.New(rand.NewPCG(5, 6))
	const alphabet = "0123456789abcdefABCDEFgzZT:-+._ é\n"
	check := func(s string) {
		if got, want := isUUIDText(s), refUUIDPattern.MatchString(s); got != want {
			t.Fatalf("isUUIDText(%q) = %v, regexp %v", s, got, want)
		}
		if got, want := isTimeText(s), refTimePattern.MatchString(s); got != want {
			t.Fatalf("isTimeText(%q) = %v, regexp %v", s, got, want)
		}
		if got, want := isTenantText(s), refTenantPattern.MatchString(s); got != want {
			t.Fatalf("isTenantText(%q) = %v, regexp %v", s, got, want)
		}
	}
	for _, s := range seeds {
		check(s)
		for i := range len(s) + 1 {
			check(s[:i])
			check(s[:i] + s[min(i+1, len(s)):])
			for _, c := range alphabet {
				check(s[:i] + string(c) + s[min(i+1, len(s)):])
				check(s[:i] + string(c) + s[i:])
			}
		}
	}
	for range 200000 {
		b := []byte(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			if len(b) > 0 {
				b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		check(string(b))
	}
}

// FuzzDecode_SameAsReference extends the differential test to arbitrary
// bodies: `go test -fuzz FuzzDecode_SameAsReference`.
func FuzzDecode_SameAsReference(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("{\"a\":[1,-0.5e+3,true,null,\"\\u00e9\"]}\n[1,2]\n{\"id\":"))
	opts := testOptions()
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, errs := Decode(body, opts)
		rev, rerrs := refDecode(body, opts)
		if !reflect.DeepEqual(ev, rev) || !reflect.DeepEqual(errs, rerrs) {
			t.Fatalf("Decode(%q)\n got %v %v\nwant %v %v", body, ev, errs, rev, rerrs)
		}
		for _, ct := range append([]string{ContentTypeNDJSON}, fuzzContentTypes...) {
			sameResults(t, ct, DecodeBatch(body, ct, opts), refDecodeBatch(body, ct, opts))
		}
	})
}
