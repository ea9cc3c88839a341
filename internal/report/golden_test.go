package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test ./internal/report -update and review the diff\n%s",
			name, firstDifference(want, got))
	}
}

func firstDifference(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + w + "\n  got: " + g
		}
	}
	return ""
}

// compileSchema loads schema/reports/right-to-know.v1.schema.json.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "schema", "reports", "right-to-know.v1.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validateJSON(t *testing.T, sch *jsonschema.Schema, b []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("the JSON report does not follow its schema: %v", err)
	}
}

// TestGolden_SeedScenarios builds a report for a person of each of the
// five reference customers and compares the JSON and HTML with the golden
// files; the JSON must follow the published schema, and the 7024(d) values
// (and, for a categories-only report, every value) must appear in no
// rendering.
func TestGolden_SeedScenarios(t *testing.T) {
	sch := compileSchema(t)
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			r, err := Build(sc.input(t))
			if err != nil {
				t.Fatal(err)
			}
			var js, html, pdf bytes.Buffer
			if err := WriteJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			if err := WriteHTML(&html, r); err != nil {
				t.Fatal(err)
			}
			if err := WritePDF(&pdf, r, PDFOptions{Uncompressed: true}); err != nil {
				t.Fatal(err)
			}
			golden(t, sc.name+".json", js.Bytes())
			golden(t, sc.name+".html", html.Bytes())
			validateJSON(t, sch, js.Bytes())
			for _, secret := range sc.secrets {
				for format, b := range map[string][]byte{"json": js.Bytes(), "html": html.Bytes(), "pdf": pdf.Bytes()} {
					if bytes.Contains(b, []byte(secret)) {
						t.Errorf("%s contains %q", format, secret)
					}
				}
			}
			for _, v := range sc.shown {
				if !bytes.Contains(js.Bytes(), []byte(v)) || !bytes.Contains(html.Bytes(), []byte(v)) {
					t.Errorf("%q is missing from the JSON or the HTML", v)
				}
			}

			// The same facts give the same bytes.
			again, err := Build(sc.input(t))
			if err != nil {
				t.Fatal(err)
			}
			var js2 bytes.Buffer
			_ = WriteJSON(&js2, again)
			if !bytes.Equal(js.Bytes(), js2.Bytes()) {
				t.Error("two builds of the same input differ")
			}
		})
	}
}
