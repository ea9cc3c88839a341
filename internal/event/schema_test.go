package event

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/schema"
)

const schemaBase = "https://custody.dev/schema/events/v1/"

// compileEventSchema loads every file of schema/events under its $id and
// compiles the envelope.
func compileEventSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	files, err := fs.Glob(schema.Events(), "*.schema.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	for _, name := range files {
		b, err := fs.ReadFile(schema.Events(), name)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id != schemaBase+name {
			t.Fatalf("%s: $id = %q, want %q", name, id, schemaBase+name)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, name := range files { // every file compiles, not only those the envelope reaches
		if _, err := c.Compile(schemaBase + name); err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
	}
	sch, err := c.Compile(schemaBase + "envelope.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// schemaPaths returns the instance locations of the leaf errors, in the
// decoder's path syntax.
func schemaPaths(err error) []string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return nil
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, toFieldPath(e.InstanceLocation))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

func toFieldPath(loc []string) string {
	p := ""
	for _, tok := range loc {
		if i, err := strconv.Atoi(tok); err == nil {
			p = index(p, i)
		} else {
			p = field(p, tok)
		}
	}
	return p
}

// TestSchema_AgreesWithDecoderOnCorpus checks that the JSON Schema and the Go
// decoder accept the same good events and reject the same bad ones, and that
// for each bad event the schema points at (or above) a field the decoder
// names. The corpus holds structural problems only; taxonomy terms in it are
// known to the test vocabulary.
func TestSchema_AgreesWithDecoderOnCorpus(t *testing.T) {
	sch := compileEventSchema(t)
	for _, dir := range []string{"good", "bad"} {
		files, err := filepath.Glob(filepath.Join("testdata", "corpus", dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s corpus: %v", dir, err)
		}
		for _, f := range files {
			t.Run(dir+"/"+filepath.Base(f), func(t *testing.T) {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				schemaErr := sch.Validate(inst)
				ev, goErrs := Decode(b, testOptions())
				wantOK := dir == "good"
				if (schemaErr == nil) != wantOK {
					t.Errorf("schema: valid = %v, want %v: %v", schemaErr == nil, wantOK, schemaErr)
				}
				if (ev != nil) != wantOK {
					t.Errorf("decoder: accepted = %v, want %v: %v", ev != nil, wantOK, goErrs)
				}
				if wantOK || schemaErr == nil || ev != nil {
					return
				}
				if !pathsOverlap(schemaPaths(schemaErr), goErrs) {
					t.Errorf("schema and decoder point at different fields:\nschema:  %v\ndecoder: %v", schemaPaths(schemaErr), goErrs)
				}
			})
		}
	}
}

// pathsOverlap reports whether some schema error location is a decoder error
// path or a prefix of one.
func pathsOverlap(schemaPaths []string, goErrs []FieldError) bool {
	for _, sp := range schemaPaths {
		for _, e := range goErrs {
			if sp == e.Path || sp == "" || strings.HasPrefix(e.Path, sp+".") || strings.HasPrefix(e.Path, sp+"[") {
				return true
			}
		}
	}
	return false
}

func TestSchema_FixedEnumerationsMatchTheGoTypes(t *testing.T) {
	read := func(name string) string {
		b, err := fs.ReadFile(schema.Events(), name)
		if err != nil {
			t.Fatal(err)
		}
		return string(bytes.Join(bytes.Fields(b), nil))
	}
	quoted := func(vals []string) string { return `["` + strings.Join(vals, `","`) + `"]` }
	checks := []struct{ file, want string }{
		{"envelope.schema.json", `"enum":` + quoted(typeNames(ExternalTypes()))},
		{"consent.changed.schema.json", `"enum":` + quoted(typeNames(ConsentStatuses()))},
	}
	for _, c := range checks {
		if !strings.Contains(read(c.file), c.want) {
			t.Errorf("%s does not contain %s", c.file, c.want)
		}
	}
	if !strings.Contains(read("common.schema.json"), `"enum":`+quoted(typeNames(identity.Kinds()))) {
		t.Errorf("common.schema.json identifier kinds differ from identity.Kinds()")
	}
}
