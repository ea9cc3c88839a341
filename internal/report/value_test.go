package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/requests"
)

// A report's size is bounded whatever values are stored: the value of
// issue 17 (9,000 nested arrays, 18 KB) made an 810 MB JSON report. Values
// within the bounds are shown as recorded; others in part, as text, with a
// notice, in every format.
func TestBuild_ShownValuesAreBounded(t *testing.T) {
	bomb := strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
	nest := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	long := strings.Repeat("é", MaxShownValueBytes) // 2 bytes each
	tests := []struct {
		name   string
		value  string // as el takes it: JSON when it is an object or array
		shown  string // the Value wanted; "" means as recorded
		notice string
	}{
		{"bracket bomb", bomb, "", "too long to show in full"},
		{"nested 9 deep", nest(9), `"` + strings.ReplaceAll(nest(9), `"`, `\"`) + `"`, "nested too deeply"},
		{"nested 8 deep", nest(8), nest(8), ""},
		{"a plain name", "Jane Doe", `"Jane Doe"`, ""},
		{"16 KiB of text", long, "", "too long to show in full"},
		{"an array of 8 KiB", "[" + strings.Repeat("1,", MaxShownValueBytes/2-2) + "1]", "[" + strings.Repeat("1,", MaxShownValueBytes/2-2) + "1]", ""},
	}
	sch := compileSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &stream{tenant: "default", refs: []identity.Ref{ref(identity.Email, "jane@example.com")}}
			s.collected("2026-01-10", "consumer", "app", "app", purposes("service_delivery"), el("pref", "inference.preferences", tt.value))
			w := Window{From: at("2025-06-01"), To: at("2026-02-01")}
			r, err := Build(Input{Record: recordOf(t, s, w), Taxonomy: loadTaxonomy(t), Window: w, Scope: requests.LevelSpecificPieces,
				GeneratedAt: at("2026-02-02")})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.SpecificPieces) != 1 {
				t.Fatalf("%d pieces", len(r.SpecificPieces))
			}
			p := r.SpecificPieces[0]
			if p.ValueStatus != ValueShown || !strings.Contains(p.Notice, tt.notice) || (tt.notice == "") != (p.Notice == "") {
				t.Fatalf("status %s, notice %q; want shown with %q", p.ValueStatus, p.Notice, tt.notice)
			}
			if tt.shown != "" && string(p.Value) != tt.shown {
				t.Errorf("value %.100s, want %.100s", p.Value, tt.shown)
			}
			if tt.notice != "" {
				var text string
				if err := json.Unmarshal(p.Value, &text); err != nil || len(text) > MaxShownValueBytes+len("…") {
					t.Errorf("shown in part as %d bytes (%v), want a string of at most %d", len(p.Value), err, MaxShownValueBytes)
				}
			}
			var js, html, pdf bytes.Buffer
			for _, err := range []error{WriteJSON(&js, r), WriteHTML(&html, r), WritePDF(&pdf, r, PDFOptions{})} {
				if err != nil {
					t.Fatal(err)
				}
			}
			validateJSON(t, sch, js.Bytes())
			// The whole report, its boilerplate included, stays small.
			for format, n := range map[string]int{"json": js.Len(), "html": html.Len(), "pdf": pdf.Len()} {
				if n > 200<<10 {
					t.Errorf("%s report is %d bytes", format, n)
				}
			}
			if tt.notice != "" && !strings.Contains(html.String(), tt.notice) {
				t.Error("the HTML report does not say the value is shown in part")
			}
		})
	}
}
