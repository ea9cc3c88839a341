package ingest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

// decodeBatch must answer exactly as event.DecodeBatch does on the whole
// body, whatever the lines hold.
func TestDecodeBatch_SameResultsAsOneDecode(t *testing.T) {
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	opts := event.Options{Vocabulary: tax, Now: func() time.Time { return now }}
	line := func(i int) string {
		return fmt.Sprintf(`{"id":"0193c6c4-7d1e-7c3a-9a55-%012d","type":"data.collected","source":"web","time":"2026-03-01T12:00:00Z",`+
			`"subject":{"identifiers":[{"kind":"email","value":"P%d@Example.com"}]},`+
			`"data":{"elements":[{"name":"e","category":"contact.email","value":"p%d@example.com"}],"origin":{"kind":"consumer"},"purposes":["order_fulfilment"],"system":"crm"}}`, i, i, i)
	}
	many := func(n int, odd func(i int) string) string {
		var b strings.Builder
		for i := range n {
			if s := odd(i); s != "" {
				b.WriteString(s)
			} else {
				b.WriteString(line(i))
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	bodies := map[string]string{
		"valid":         many(600, func(int) string { return "" }),
		"some invalid":  many(600, func(i int) string { return map[bool]string{true: `{"id":"x","type":"data.emial"}`}[i%7 == 3] }),
		"blank lines":   many(600, func(i int) string { return map[bool]string{true: "  \r"}[i%5 == 0] }),
		"crlf":          strings.ReplaceAll(many(600, func(int) string { return "" }), "\n", "\r\n"),
		"arrays":        many(600, func(i int) string { return map[bool]string{true: `[1, 2]`}[i%50 == 0] }),
		"garbage":       many(600, func(i int) string { return map[bool]string{true: `{not json`}[i%3 == 0] }),
		"bom":           "\xef\xbb\xbf" + many(600, func(int) string { return "" }),
		"leading space": strings.Repeat(" \n", 40000) + many(600, func(int) string { return "" }),
		"one array":     "[" + strings.ReplaceAll(strings.TrimSuffix(many(600, func(int) string { return "" }), "\n"), "\n", ",\n") + "]",
		"no newline":    strings.Repeat(" ", 70000) + line(1),
	}
	for name, body := range bodies {
		for _, ct := range []string{event.ContentTypeNDJSON, event.ContentTypeNDJSON + "; charset=utf-8", "application/json", ""} {
			want := event.DecodeBatch([]byte(body), ct, opts)
			got := decodeBatch([]byte(body), ct, opts)
			if len(got) != len(want) {
				t.Fatalf("%s, %q: %d results, want %d", name, ct, len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%s, %q: result %d:\n got %+v\nwant %+v", name, ct, i, got[i], want[i])
				}
			}
		}
	}
	if chunks := cutLines([]byte(bodies["valid"]), 2); len(chunks) != 2 {
		t.Fatalf("a large body was cut in %d chunks, want 2", len(chunks))
	}
}
