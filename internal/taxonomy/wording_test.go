package taxonomy_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/custodyhq/custody/schema"
)

// seedReference is how the taxonomy's notes cite the reference customers'
// policies (000–004): fine in YAML comments, never in a description, which
// consumers read in their reports.
var seedReference = regexp.MustCompile(`\b00[0-4]\b`)

// Every description is our own plain words: none cites another business's
// policy or the seed documents (the before-stop check found 20 that did,
// e.g. "stored only in hashed form (000 \"Credentials\")" in a report).
func TestDescriptions_CiteNoPolicyDocument(t *testing.T) {
	files, err := fs.Glob(schema.Taxonomy(), "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("taxonomy files: %v %v", files, err)
	}
	checked := 0
	for _, name := range files {
		b, err := fs.ReadFile(schema.Taxonomy(), name)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					if s, ok := x.(string); ok && strings.Contains(k, "description") {
						checked++
						if seedReference.MatchString(s) {
							t.Errorf("%s %s.%s cites a policy document: %q", name, path, k, s)
						}
					}
					walk(path+"."+k, x)
				}
			case []any:
				for _, x := range v {
					walk(path+"[]", x)
				}
			}
		}
		walk("", doc)
	}
	if checked < 100 {
		t.Fatalf("checked %d descriptions; the walk found too few", checked)
	}
}
