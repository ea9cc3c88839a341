package event

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"

	"github.com/custodyhq/custody/internal/taxonomy"
)

// walker walks one event's JSON tree, collecting every problem it finds.
type walker struct {
	opts   *Options
	tenant string // for vocabulary lookups
	errs   []FieldError
}

func (w *walker) fail(path, reason string) {
	w.errs = append(w.errs, FieldError{Path: path, Reason: reason})
}

// fields is a checked JSON object: its members are known and unique.
type fields struct {
	n    *node
	path string
}

// get returns the member name, or nil when it is absent.
func (f fields) get(name string) *node { return f.n.member(name) }

// specialFields are members that are never accepted, with the reason why.
var specialFields = map[string]string{
	"recordedat":  "is set by Custody when the event is recorded; do not send it",
	"recorded_at": "is set by Custody when the event is recorded; do not send it",
	"data_base64": "binary data is not accepted; send `data` as a JSON object",
}

// object checks that n is an object whose members are all in known and
// appear once. It reports a wrong type at path and each unknown or duplicate
// member at its own path.
func (w *walker) object(n *node, path string, known ...string) (fields, bool) {
	if !w.want(n, path, jsonObject) {
		return fields{}, false
	}
	seen := make(map[string]bool, len(n.keys))
	for _, k := range n.keys {
		p := field(path, k)
		switch {
		case seen[k]:
			w.fail(p, "duplicate field "+quote(k))
			continue
		case contains(known, k):
		case specialFields[k] != "" && path == "":
			w.fail(p, specialFields[k])
		default:
			w.fail(p, "unknown field "+quote(k)+didYouMean(suggest(k, known)))
		}
		seen[k] = true
	}
	return fields{n: n, path: path}, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// want reports a type mismatch; nil (absent) is not reported.
func (w *walker) want(n *node, path string, k jsonKind) bool {
	if n == nil {
		return false
	}
	if n.kind != k {
		w.fail(path, "must be "+withArticle(k)+", not "+n.kind.String())
		return false
	}
	return true
}

func withArticle(k jsonKind) string {
	if k == jsonArray || k == jsonObject {
		return "an " + k.String()
	}
	return "a " + k.String()
}

// need returns member name, reporting it as missing when absent.
func (w *walker) need(f fields, name string) *node {
	n := f.get(name)
	if n == nil {
		w.fail(field(f.path, name), quote(name)+" is required")
	}
	return n
}

// member returns member name, or nil when it is absent; an absent member
// is reported as missing when req is true.
func (w *walker) member(f fields, name string, req bool) *node {
	if req {
		return w.need(f, name)
	}
	return f.get(name)
}

// text reads a free-text string member: trimmed, non-empty, at most 1 KiB,
// no control characters.
func (w *walker) text(f fields, name string, req bool) string {
	n := w.member(f, name, req)
	if n == nil {
		return ""
	}
	return w.textNode(n, field(f.path, name))
}

func (w *walker) textNode(n *node, path string) string {
	if !w.want(n, path, jsonString) {
		return ""
	}
	if len(n.raw) > 6*MaxStringBytes+2 { // cannot decode to ≤ 1 KiB
		w.fail(path, "is longer than 1 KiB (1024 bytes)")
		return ""
	}
	s := strings.TrimSpace(decodeString(n.raw))
	switch {
	case s == "":
		w.fail(path, "must not be empty")
	case len(s) > MaxStringBytes:
		w.fail(path, "is longer than 1 KiB (1024 bytes)")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		w.fail(path, "must not contain control characters (such as line breaks)")
	default:
		return s
	}
	return ""
}

// term reads a taxonomy term and checks it against the tenant's vocabulary.
func (w *walker) term(f fields, name string, list taxonomy.List, req bool) string {
	n := w.member(f, name, req)
	if n == nil {
		return ""
	}
	return w.termNode(n, field(f.path, name), list)
}

func (w *walker) termNode(n *node, path string, list taxonomy.List) string {
	s := w.textNode(n, path)
	if s == "" {
		return ""
	}
	known, suggestion := w.opts.Vocabulary.Lookup(w.tenant, list, s)
	if known {
		return s
	}
	msg := "unknown " + termNoun(list) + " " + quote(s)
	if w.tenant != DefaultTenant {
		msg += " for tenant " + quote(w.tenant)
	}
	w.fail(path, msg+didYouMean(suggestion))
	return ""
}

func termNoun(l taxonomy.List) string {
	switch l {
	case taxonomy.Categories:
		return "category"
	case taxonomy.LegalBases:
		return "legal basis"
	}
	s := strings.ReplaceAll(string(l), "_", " ")
	return strings.TrimSuffix(s, "s")
}

// array reads an array member with at most max items; min is 1 for lists
// that must not be empty.
func (w *walker) array(f fields, name string, req bool, min, max int) []*node {
	n := w.member(f, name, req)
	path := field(f.path, name)
	if !w.want(n, path, jsonArray) {
		return nil
	}
	switch {
	case len(n.members) < min:
		w.fail(path, "must not be empty")
		return nil
	case len(n.members) > max:
		w.fail(path, "has "+strconv.Itoa(len(n.members))+" items; at most "+strconv.Itoa(max)+" are allowed")
		return nil
	}
	return n.members
}

// terms reads a list of distinct taxonomy terms.
func (w *walker) terms(f fields, name string, list taxonomy.List, req bool) []string {
	items := w.array(f, name, req, 1, MaxElements)
	path := field(f.path, name)
	var out []string
	first := map[string]int{}
	for i, it := range items {
		s := w.termNode(it, index(path, i), list)
		if s == "" {
			continue
		}
		if j, dup := first[s]; dup {
			w.fail(index(path, i), "duplicate of "+index(path, j))
			continue
		}
		first[s] = i
		out = append(out, s)
	}
	return out
}

// boolean reads a boolean member.
func (w *walker) boolean(f fields, name string, req bool) (v, present bool) {
	n := w.member(f, name, req)
	if !w.want(n, field(f.path, name), jsonBool) {
		return false, false
	}
	return string(n.raw) == "true", true
}

// valueRule says whether elements of a list carry values.
type valueRule int

const (
	valueOptional valueRule = iota
	valueRequired
	valueForbidden
)

// elements reads a list of data elements. why explains a forbidden value.
func (w *walker) elements(f fields, name string, req bool, min int, rule valueRule, why string) []Element {
	items := w.array(f, name, req, min, MaxElements)
	path := field(f.path, name)
	out := make([]Element, 0, len(items))
	for i, it := range items {
		p := index(path, i)
		ef, ok := w.object(it, p, "name", "category", "value")
		if !ok {
			continue
		}
		el := Element{
			Name:     w.text(ef, "name", true),
			Category: w.term(ef, "category", taxonomy.Categories, true),
			Value:    w.value(ef, rule, why),
		}
		out = append(out, el)
	}
	return out
}

// value reads an element's value as compact JSON; null counts as absent.
func (w *walker) value(f fields, rule valueRule, why string) json.RawMessage {
	n := f.get("value")
	path := field(f.path, "value")
	if n != nil && n.kind == jsonNull {
		n = nil
	}
	switch {
	case n == nil && rule == valueRequired:
		w.fail(path, "`value` is required"+why)
		return nil
	case n == nil:
		return nil
	case rule == valueForbidden:
		w.fail(path, why)
		return nil
	}
	return w.compactJSON(n, path)
}

// compactJSON returns n as compact JSON of at most 64 KiB, with <, >, &,
// U+2028 and U+2029 escaped in strings as encoding/json writes them, so the
// bytes survive MarshalJSON and decoding unchanged.
func (w *walker) compactJSON(n *node, path string) json.RawMessage {
	var compact, escaped bytes.Buffer
	compact.Grow(min(len(n.raw), MaxValueBytes))
	_ = json.Compact(&compact, n.raw) // valid by construction
	if compact.Len() > MaxValueBytes {
		w.fail(path, "is larger than 64 KiB")
		return nil
	}
	escaped.Grow(compact.Len())
	json.HTMLEscape(&escaped, compact.Bytes())
	return json.RawMessage(escaped.Bytes())
}
