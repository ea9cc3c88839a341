package event

// This file keeps the decoder as it was before the single-pass parser
// (json.Valid, then a tree of separately allocated nodes, then the walk),
// renamed with a ref prefix, as the reference the differential test compares
// the decoder with. It reuses the parts that did not change: Options, the
// field lists, the patterns, errors.go and the framing.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/taxonomy"
)

// The patterns the decoder matched with regular expressions.
var (
	refUUIDPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	refTimePattern   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$`)
	refTenantPattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
)

// refDecode decodes and validates one event (a JSON object). It returns the
// event, or nil and every problem found. Decode panics if opts.Validate
// fails.
func refDecode(b []byte, opts Options) (*Event, []FieldError) {
	opts = opts.withDefaults()
	ev, errs, _ := refDecodeEvent(b, &opts)
	return ev, errs
}

// refDecodeEvent also returns the event's id as sent, when it is a string.
func refDecodeEvent(raw []byte, opts *Options) (*Event, []FieldError, string) {
	if len(raw) > opts.Limits.MaxEventBytes {
		return nil, []FieldError{{Reason: "event is larger than " + sizeText(opts.Limits.MaxEventBytes)}}, ""
	}
	if !utf8.Valid(raw) {
		return nil, []FieldError{{Reason: "event is not valid UTF-8"}}, ""
	}
	root, err := refParseTree(raw)
	if err != nil {
		return nil, []FieldError{{Reason: err.Error()}}, ""
	}
	w := &refWalker{opts: opts, tenant: DefaultTenant}
	if root.kind != jsonObject {
		got := refWithArticle(root.kind)
		if root.kind == jsonNull {
			got = "null"
		}
		return nil, []FieldError{{Reason: "an event must be a JSON object, not " + got}}, ""
	}
	ev, id := w.envelope(root)
	if len(w.errs) > 0 {
		return nil, w.errs, id
	}
	return ev, nil, id
}

func (w *refWalker) envelope(root *refNode) (*Event, string) {
	f, _ := w.object(root, "", envelopeFields...)
	ev := &Event{SpecVersion: SpecVersion, Tenant: DefaultTenant}
	var rawID string
	ev.ID, rawID = w.eventID(f)
	if n := f.get("specversion"); w.want(n, "specversion", jsonString) && refDecodeString(n.raw) != SpecVersion {
		w.fail("specversion", "must be `1.0` (CloudEvents 1.0) or left out")
	}
	ev.Type = w.eventType(f)
	ev.Source = w.text(f, "source", true)
	ev.Time = w.eventTime(f)
	if n := f.get("tenant"); w.want(n, "tenant", jsonString) {
		if t := refDecodeString(n.raw); refTenantPattern.MatchString(t) {
			ev.Tenant = t
		} else {
			w.fail("tenant", "must be 1–64 lower-case letters, digits, `_` or `-`")
		}
	}
	w.tenant = ev.Tenant
	ev.DataContentType = w.dataContentType(f)
	ev.DataSchema = w.dataSchema(f)
	ev.Subject = w.subject(f, ev.Type)
	if ev.Type != "" {
		ev.Data = w.data(f, ev.Type)
	}
	return ev, rawID
}

func (w *refWalker) eventID(f refFields) (uuid.UUID, string) {
	n := w.need(f, "id")
	if !w.want(n, "id", jsonString) {
		return uuid.Nil, ""
	}
	s := refDecodeString(n.raw)
	id, err := uuid.Parse(s)
	switch {
	case !refUUIDPattern.MatchString(s) || err != nil:
		w.fail("id", "must be a UUID such as `0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10` (it is the idempotency key)")
		return uuid.Nil, clip(s, 64)
	case id == uuid.Nil:
		w.fail("id", "must not be the nil UUID; give every event its own UUID (v7 recommended)")
		return uuid.Nil, s
	}
	return id, id.String()
}

// eventType returns the type, or "" when it is missing or not acceptable.
func (w *refWalker) eventType(f refFields) Type {
	n := w.need(f, "type")
	if !w.want(n, "type", jsonString) {
		return ""
	}
	t := Type(refDecodeString(n.raw))
	switch {
	case t.Internal() && t.Known() && !w.opts.AllowInternalTypes:
		w.fail("type", quote(string(t))+" events are written by Custody itself and cannot be sent; rights requests are opened through the GraphQL API")
		return ""
	case t.Known():
		return t
	}
	candidates := typeNames(ExternalTypes())
	if w.opts.AllowInternalTypes {
		candidates = append(candidates, typeNames(InternalTypes())...)
	}
	w.fail("type", "unknown event type "+quote(string(t))+didYouMean(suggest(string(t), candidates)))
	return ""
}

func (w *refWalker) eventTime(f refFields) time.Time {
	n := w.need(f, "time")
	if !w.want(n, "time", jsonString) {
		return time.Time{}
	}
	s := refDecodeString(n.raw)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !refTimePattern.MatchString(s) {
		w.fail("time", "must be an RFC 3339 timestamp such as `2026-03-01T12:00:00Z`")
		return time.Time{}
	}
	t = t.UTC()
	switch {
	case t.Before(earliestTime):
		w.fail("time", "is before 1900")
	case !w.opts.trusted && t.After(w.opts.Now().Add(w.opts.MaxFutureSkew)):
		w.fail("time", "is more than "+w.opts.MaxFutureSkew.String()+" in the future; `time` is when it happened")
	}
	return t
}

func (w *refWalker) dataContentType(f refFields) string {
	s := w.text(f, "datacontenttype", false)
	if s == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(s)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		w.fail("datacontenttype", "`data` is always JSON: use `application/json` or leave it out")
		return ""
	}
	return s
}

func (w *refWalker) dataSchema(f refFields) string {
	s := w.text(f, "dataschema", false)
	if s == "" {
		return ""
	}
	if u, err := url.Parse(s); err != nil || !u.IsAbs() {
		w.fail("dataschema", "must be an absolute URI")
		return ""
	}
	return s
}

func (w *refWalker) subject(f refFields, t Type) Subject {
	n := w.need(f, "subject")
	sf, ok := w.object(n, "subject", "identifiers")
	if !ok {
		return Subject{}
	}
	minIDs := 1
	if t == TypeSubjectLinked {
		minIDs = 2
	}
	items := w.array(sf, "identifiers", true, 1, w.opts.Limits.MaxIdentifiers)
	if items != nil && len(items) < minIDs {
		w.fail("subject.identifiers", "`subject.linked` needs at least two identifiers: it says they all belong to one person")
	}
	var out []Identifier
	first := map[Identifier]int{}
	for i, it := range items {
		p := index("subject.identifiers", i)
		id, ok := w.identifier(it, p)
		if !ok {
			continue
		}
		if j, dup := first[id]; dup {
			w.fail(p, "same identifier as "+index("subject.identifiers", j))
			continue
		}
		first[id] = i
		out = append(out, id)
	}
	return Subject{Identifiers: out}
}

func (w *refWalker) identifier(n *refNode, path string) (Identifier, bool) {
	f, ok := w.object(n, path, "kind", "namespace", "value")
	if !ok {
		return Identifier{}, false
	}
	var id Identifier
	kn, nn, vn := w.need(f, "kind"), f.get("namespace"), w.need(f, "value")
	kindOK := false
	if w.want(kn, field(path, "kind"), jsonString) {
		id.Kind = identity.Kind(refDecodeString(kn.raw))
		if kindOK = id.Kind.Valid(); !kindOK {
			kinds := typeNames(identity.Kinds())
			w.fail(field(path, "kind"), unknownValue("identifier kind", string(id.Kind), kinds))
		}
	}
	nsOK := nn == nil || w.want(nn, field(path, "namespace"), jsonString)
	if nsOK && nn != nil {
		id.Namespace = refDecodeString(nn.raw)
	}
	valueOK := w.want(vn, field(path, "value"), jsonString)
	if valueOK {
		id.Value = refDecodeString(vn.raw)
	}
	if !kindOK || !nsOK || (vn != nil && !valueOK) {
		return Identifier{}, false
	}
	if nn != nil && !id.Kind.NeedsNamespace() {
		w.fail(field(path, "namespace"), "namespace is only allowed with kind `external`; remove it")
		return Identifier{}, false
	}
	norm, err := id.Normalized()
	if vn == nil {
		// Value is reported missing; still check the namespace.
		_, err = identity.NormalizeNamespace(id.Kind, id.Namespace)
		if err == nil {
			return Identifier{}, false
		}
	}
	if err != nil {
		if ie, ok := err.(*identity.Error); ok {
			w.fail(field(path, ie.Field), ie.Reason)
		} else {
			w.fail(path, "invalid identifier")
		}
		return Identifier{}, false
	}
	return norm, true
}

// refNode is one JSON value of an event, kept with its raw bytes so the decoder
// can report every problem (wrong types, unknown and duplicate members) with
// its path instead of stopping at the first, and copy element values
// verbatim.
type refNode struct {
	kind    jsonKind
	raw     []byte     // the value's bytes in the input
	keys    []string   // object member names, in input order
	members []*refNode // object member values or array elements
}

// refParseTree parses one JSON value. It checks syntax with encoding/json first,
// so the tree builder below only has to find token boundaries.
func refParseTree(b []byte) (*refNode, error) {
	if !json.Valid(b) {
		var v json.RawMessage
		err := json.Unmarshal(b, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, se.Error())
		}
		return nil, errors.New("malformed JSON")
	}
	p := refTreeParser{b: b}
	p.space()
	n := p.value()
	return n, nil
}

type refTreeParser struct {
	b []byte
	i int
}

func (p *refTreeParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *refTreeParser) value() *refNode {
	start := p.i
	n := &refNode{}
	switch c := p.b[p.i]; {
	case c == '{':
		n.kind = jsonObject
		p.i++
		p.space()
		for p.b[p.i] != '}' {
			ks := p.i
			p.str()
			n.keys = append(n.keys, refDecodeString(p.b[ks:p.i]))
			p.space()
			p.i++ // ':'
			p.space()
			n.members = append(n.members, p.value())
			p.space()
			if p.b[p.i] == ',' {
				p.i++
				p.space()
			}
		}
		p.i++
	case c == '[':
		n.kind = jsonArray
		p.i++
		p.space()
		for p.b[p.i] != ']' {
			n.members = append(n.members, p.value())
			p.space()
			if p.b[p.i] == ',' {
				p.i++
				p.space()
			}
		}
		p.i++
	case c == '"':
		n.kind = jsonString
		p.str()
	case c == 't' || c == 'f':
		n.kind = jsonBool
		p.literal()
	case c == 'n':
		n.kind = jsonNull
		p.literal()
	default:
		n.kind = jsonNumber
		for p.i < len(p.b) && strings.IndexByte("+-.0123456789eE", p.b[p.i]) >= 0 {
			p.i++
		}
	}
	n.raw = p.b[start:p.i]
	return n
}

// str skips a string token starting at the opening quote.
func (p *refTreeParser) str() {
	p.i++
	for p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			p.i++
		}
		p.i++
	}
	p.i++
}

func (p *refTreeParser) literal() {
	for p.i < len(p.b) && p.b[p.i] >= 'a' && p.b[p.i] <= 'z' {
		p.i++
	}
}

// refDecodeString decodes a valid JSON string token.
func refDecodeString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // valid by construction
	return s
}

// member returns the value of the object member name, or nil.
func (n *refNode) member(name string) *refNode {
	for i, k := range n.keys {
		if k == name {
			return n.members[i]
		}
	}
	return nil
}

// refWalker walks one event's JSON tree, collecting every problem it finds.
type refWalker struct {
	opts   *Options
	tenant string // for vocabulary lookups
	errs   []FieldError
}

func (w *refWalker) fail(path, reason string) {
	w.errs = append(w.errs, FieldError{Path: path, Reason: reason})
}

// refFields is a checked JSON object: its members are known and unique.
type refFields struct {
	n    *refNode
	path string
}

// get returns the member name, or nil when it is absent.
func (f refFields) get(name string) *refNode { return f.n.member(name) }

// object checks that n is an object whose members are all in known and
// appear once. It reports a wrong type at path and each unknown or duplicate
// member at its own path.
func (w *refWalker) object(n *refNode, path string, known ...string) (refFields, bool) {
	if !w.want(n, path, jsonObject) {
		return refFields{}, false
	}
	seen := make(map[string]bool, len(n.keys))
	for _, k := range n.keys {
		p := field(path, k)
		switch {
		case seen[k]:
			w.fail(p, "duplicate field "+quote(k))
			continue
		case refContains(known, k):
		case specialFields[k] != "" && path == "":
			w.fail(p, specialFields[k])
		default:
			w.fail(p, "unknown field "+quote(k)+didYouMean(suggest(k, known)))
		}
		seen[k] = true
	}
	return refFields{n: n, path: path}, true
}

func refContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// want reports a type mismatch; nil (absent) is not reported.
func (w *refWalker) want(n *refNode, path string, k jsonKind) bool {
	if n == nil {
		return false
	}
	if n.kind != k {
		w.fail(path, "must be "+refWithArticle(k)+", not "+n.kind.String())
		return false
	}
	return true
}

func refWithArticle(k jsonKind) string {
	if k == jsonArray || k == jsonObject {
		return "an " + k.String()
	}
	return "a " + k.String()
}

// need returns member name, reporting it as missing when absent.
func (w *refWalker) need(f refFields, name string) *refNode {
	n := f.get(name)
	if n == nil {
		w.fail(field(f.path, name), quote(name)+" is required")
	}
	return n
}

// member returns member name, or nil when it is absent; an absent member
// is reported as missing when req is true.
func (w *refWalker) member(f refFields, name string, req bool) *refNode {
	if req {
		return w.need(f, name)
	}
	return f.get(name)
}

// text reads a free-text string member: trimmed, non-empty, at most 1 KiB,
// no control characters.
func (w *refWalker) text(f refFields, name string, req bool) string {
	n := w.member(f, name, req)
	if n == nil {
		return ""
	}
	return w.textNode(n, field(f.path, name))
}

func (w *refWalker) textNode(n *refNode, path string) string {
	if !w.want(n, path, jsonString) {
		return ""
	}
	if len(n.raw) > 6*MaxStringBytes+2 { // cannot decode to ≤ 1 KiB
		w.fail(path, "is longer than 1 KiB (1024 bytes)")
		return ""
	}
	s := strings.TrimSpace(refDecodeString(n.raw))
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
func (w *refWalker) term(f refFields, name string, list taxonomy.List, req bool) string {
	n := w.member(f, name, req)
	if n == nil {
		return ""
	}
	return w.termNode(n, field(f.path, name), list)
}

func (w *refWalker) termNode(n *refNode, path string, list taxonomy.List) string {
	s := w.textNode(n, path)
	if s == "" {
		return ""
	}
	known, suggestion := w.opts.Vocabulary.Lookup(w.tenant, list, s)
	if known {
		return s
	}
	msg := "unknown " + refTermNoun(list) + " " + quote(s)
	if w.tenant != DefaultTenant {
		msg += " for tenant " + quote(w.tenant)
	}
	w.fail(path, msg+didYouMean(suggestion))
	return ""
}

func refTermNoun(l taxonomy.List) string {
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
func (w *refWalker) array(f refFields, name string, req bool, min, max int) []*refNode {
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
func (w *refWalker) terms(f refFields, name string, list taxonomy.List, req bool) []string {
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
func (w *refWalker) boolean(f refFields, name string, req bool) (v, present bool) {
	n := w.member(f, name, req)
	if !w.want(n, field(f.path, name), jsonBool) {
		return false, false
	}
	return string(n.raw) == "true", true
}

// elements reads a list of data elements. why explains a forbidden value.
func (w *refWalker) elements(f refFields, name string, req bool, min int, rule valueRule, why string) []Element {
	items := w.array(f, name, req, min, w.opts.Limits.MaxElements)
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
func (w *refWalker) value(f refFields, rule valueRule, why string) json.RawMessage {
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
func (w *refWalker) compactJSON(n *refNode, path string) json.RawMessage {
	var compact, escaped bytes.Buffer
	lim := w.opts.Limits
	if !w.opts.trusted && refDepth(n) > lim.MaxValueDepth {
		w.fail(path, fmt.Sprintf("nests arrays and objects more than %d levels deep; at most %d are allowed", lim.MaxValueDepth, lim.MaxValueDepth))
		return nil
	}
	compact.Grow(min(len(n.raw), lim.MaxValueBytes))
	_ = json.Compact(&compact, n.raw) // valid by construction
	if compact.Len() > lim.MaxValueBytes {
		w.fail(path, "is larger than "+sizeText(lim.MaxValueBytes))
		return nil
	}
	escaped.Grow(compact.Len())
	json.HTMLEscape(&escaped, compact.Bytes())
	return json.RawMessage(escaped.Bytes())
}

func (w *refWalker) data(f refFields, t Type) Data {
	n := f.get("data")
	if t == TypeSubjectLinked {
		if n != nil && n.kind != jsonNull && w.want(n, "data", jsonObject) {
			for _, k := range n.keys {
				w.fail(field("data", k), "`subject.linked` events carry no data; leave `data` out")
			}
		}
		return &Linked{}
	}
	if n == nil {
		w.fail("data", "`data` is required for "+quote(string(t))+" events")
		return nil
	}
	if t == TypeAccessRecorded {
		w.fail("type", "`access.recorded` events are written by Custody's audit trail only and are never decoded from input")
		return nil
	}
	known := dataFields[t]
	if t.Internal() {
		known = requestFields
	}
	d, ok := w.object(n, "data", known...)
	if !ok {
		return nil
	}
	switch t {
	case TypeCollected:
		return w.collected(d)
	case TypeShared:
		return w.shared(d)
	case TypeProcessed:
		return w.processed(d)
	case TypeTransferred:
		return w.transferred(d)
	case TypeCorrected:
		return &Corrected{
			Elements: w.elements(d, "elements", true, 1, valueRequired, " (the corrected value)"),
			System:   w.text(d, "system", false),
		}
	case TypeErased:
		return w.erased(d)
	case TypeConsentChanged:
		return w.consentChanged(d)
	}
	return w.request(d)
}

func (w *refWalker) collected(d refFields) *Collected {
	c := &Collected{Elements: w.elements(d, "elements", true, 1, valueOptional, "")}
	if of, ok := w.object(w.need(d, "origin"), "data.origin", "kind", "name"); ok {
		c.Origin = Origin{
			Kind: w.term(of, "kind", taxonomy.SourceKinds, true),
			Name: w.text(of, "name", false),
		}
	}
	c.Purposes = w.terms(d, "purposes", taxonomy.Purposes, true)
	c.System = w.text(d, "system", true)
	c.LegalBasis = w.term(d, "legal_basis", taxonomy.LegalBases, false)
	c.Notice = w.text(d, "notice", false)
	return c
}

func (w *refWalker) shared(d refFields) *Shared {
	s := &Shared{}
	if rf, ok := w.object(w.need(d, "recipient"), "data.recipient", "name", "kind", "role", "country"); ok {
		s.Recipient = Recipient{
			Name:    w.text(rf, "name", true),
			Kind:    w.term(rf, "kind", taxonomy.RecipientKinds, true),
			Role:    w.term(rf, "role", taxonomy.RecipientRoles, true),
			Country: w.country(rf, "country"),
		}
	}
	s.Elements = w.elements(d, "elements", true, 1, valueOptional, "")
	s.Purposes = w.terms(d, "purposes", taxonomy.Purposes, true)
	s.Disclosure = w.term(d, "disclosure", taxonomy.DisclosureTypes, true)
	s.System = w.text(d, "system", true)
	return s
}

func (w *refWalker) processed(d refFields) *Processed {
	p := &Processed{
		Activity: w.text(d, "activity", true),
		Purposes: w.terms(d, "purposes", taxonomy.Purposes, true),
		Inputs:   w.elements(d, "inputs", true, 1, valueForbidden, "inputs carry no value (they name data used); put derived values in `outputs`"),
		Outputs:  w.elements(d, "outputs", false, 0, valueOptional, ""),
		System:   w.text(d, "system", true),
	}
	if n := len(p.Inputs) + len(p.Outputs); n > w.opts.Limits.MaxElements && !w.opts.trusted {
		w.fail("data", fmt.Sprintf("has %d data elements in `inputs` and `outputs` together; at most %d are allowed in one event", n, w.opts.Limits.MaxElements))
	}
	if len(p.Outputs) == 0 {
		p.Outputs = nil
	}
	if n := d.get("automated_decision"); n != nil {
		if af, ok := w.object(n, "data.automated_decision", "significant", "logic"); ok {
			sig, _ := w.boolean(af, "significant", true)
			p.AutomatedDecision = &AutomatedDecision{Significant: sig, Logic: w.text(af, "logic", true)}
		}
	}
	return p
}

func (w *refWalker) transferred(d refFields) *Transferred {
	t := &Transferred{
		Elements:   w.elements(d, "elements", true, 1, valueOptional, ""),
		FromSystem: w.text(d, "from_system", true),
		ToSystem:   w.text(d, "to_system", true),
		ToCountry:  w.country(d, "to_country"),
		Mechanism:  w.term(d, "mechanism", taxonomy.TransferMechanisms, false),
	}
	if d.get("to_country") != nil && d.get("mechanism") == nil {
		w.fail("data.mechanism", "`mechanism` is required with `to_country`: name the transfer safeguard (e.g. standard contractual clauses or an adequacy decision)")
	}
	if t.FromSystem != "" && t.FromSystem == t.ToSystem {
		w.fail("data.to_system", "is the same as `from_system`")
	}
	return t
}

func (w *refWalker) erased(d refFields) *Erased {
	e := &Erased{}
	all, allSet := w.boolean(d, "all", false)
	allSet = allSet && all
	given := 0
	for _, name := range []string{"elements", "categories"} {
		if d.get(name) != nil {
			given++
		}
	}
	if allSet {
		given++
	}
	switch {
	case given == 0:
		w.fail("data", "one of `elements`, `categories` or `all: true` is required: say what was erased")
	case given > 1:
		w.fail("data", "give exactly one of `elements`, `categories` or `all: true`")
	}
	e.Elements = w.elements(d, "elements", false, 1, valueForbidden, "erased elements carry no value")
	e.Categories = w.terms(d, "categories", taxonomy.Categories, false)
	e.All = allSet
	e.Reason = w.term(d, "reason", taxonomy.ErasureReasons, true)
	e.System = w.text(d, "system", true)
	e.RequestID = w.text(d, "request_id", false)
	if len(e.Elements) == 0 {
		e.Elements = nil
	}
	return e
}

func (w *refWalker) consentChanged(d refFields) *ConsentChanged {
	c := &ConsentChanged{Choice: w.term(d, "choice", taxonomy.ConsentChoices, true)}
	if n := w.need(d, "status"); w.want(n, "data.status", jsonString) {
		s := ConsentStatus(refDecodeString(n.raw))
		valid := typeNames(ConsentStatuses())
		if refContains(valid, string(s)) {
			c.Status = s
		} else {
			w.fail("data.status", unknownValue("status", string(s), valid))
		}
	}
	c.Mechanism = w.term(d, "mechanism", taxonomy.ConsentMechanisms, true)
	c.System = w.text(d, "system", false)
	return c
}

func (w *refWalker) request(d refFields) *Request {
	r := &Request{
		RequestID:    w.text(d, "request_id", true),
		Kind:         w.text(d, "kind", false),
		Jurisdiction: w.text(d, "jurisdiction", false),
		Channel:      w.text(d, "channel", false),
		Agent:        w.text(d, "agent", false),
		Method:       w.text(d, "method", false),
		Level:        w.text(d, "level", false),
		Outcome:      w.text(d, "outcome", false),
		Reason:       w.text(d, "reason", false),
		Basis:        w.text(d, "basis", false),
		ReceivedAt:   w.timestamp(d, "received_at"),
		DueAt:        w.timestamp(d, "due_at"),
		Actor:        w.text(d, "actor", false),
		Note:         w.text(d, "note", false),
	}
	if n := d.get("extra"); w.want(n, "data.extra", jsonObject) {
		r.Extra = w.compactJSON(n, "data.extra")
	}
	return r
}

// timestamp reads an optional RFC 3339 member.
func (w *refWalker) timestamp(d refFields, name string) *time.Time {
	n := d.get(name)
	path := field(d.path, name)
	if !w.want(n, path, jsonString) {
		return nil
	}
	s := refDecodeString(n.raw)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !refTimePattern.MatchString(s) {
		w.fail(path, "must be an RFC 3339 timestamp such as `2026-03-01T12:00:00Z`")
		return nil
	}
	t = t.UTC()
	return &t
}

// country reads an optional ISO 3166-1 alpha-2 country member.
func (w *refWalker) country(f refFields, name string) string {
	n := f.get(name)
	path := field(f.path, name)
	if !w.want(n, path, jsonString) {
		return ""
	}
	c := refDecodeString(n.raw)
	switch {
	case len(c) == 2 && knownCountry(strings.ToUpper(c)) && !knownCountry(c):
		w.fail(path, "must be an upper-case ISO 3166-1 alpha-2 code: "+quote(strings.ToUpper(c)))
	case !knownCountry(c):
		w.fail(path, "must be an ISO 3166-1 alpha-2 country code such as `DE` or `US`")
	default:
		return c
	}
	return ""
}

// refDecodeBatch decodes and validates a batch of events. contentType selects
// the framing:
//
//   - application/json (or ""): a JSON array of events, one event object,
//     or NDJSON when the body is several JSON values on separate lines;
//   - application/x-ndjson (also application/ndjson, application/jsonl):
//     one event per line, blank lines ignored;
//   - application/cloudevents+json: one event (CloudEvents structured mode);
//   - application/cloudevents-batch+json: a JSON array of events.
//
// Every event is judged on its own: a bad event, even a malformed NDJSON
// line, never affects the others. A malformed JSON array is the exception —
// events after the syntax error cannot be delimited, so one Result reports
// the error and the rest of the array. DecodeBatch always returns at least
// one Result: an empty body or batch is reported as an error at index 0.
// Raw may alias b. DecodeBatch panics if opts.Validate fails.
func refDecodeBatch(b []byte, contentType string, opts Options) []Result {
	opts = opts.withDefaults()
	mode, err := framing(contentType)
	if err != nil {
		return []Result{{Errors: []FieldError{{Reason: err.Error()}}, Raw: b}}
	}
	body := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\xef\xbb\xbf"))) // and a byte order mark
	if len(body) == 0 {
		return []Result{{Errors: []FieldError{{Reason: "the body is empty: send one event, a JSON array of events, or NDJSON"}}, Raw: b}}
	}
	if mode == modeAuto {
		mode = sniff(body)
	}
	var results []Result
	switch mode {
	case modeArray:
		results = refDecodeArray(body, &opts)
	case modeLines:
		if body[0] == '[' && json.Valid(body) {
			return []Result{{Errors: []FieldError{{Reason: "the body is a JSON array, not NDJSON; send it as " + ContentTypeJSON}}, Raw: body}}
		}
		results = refDecodeLines(body, &opts)
	default:
		if mode == modeSingle && body[0] == '[' {
			return []Result{{Errors: []FieldError{{Reason: ContentTypeCloudEvents + " carries one event; send a batch as " + ContentTypeCloudEventsBatch}}, Raw: body}}
		}
		results = []Result{refDecodeOne(0, body, &opts)}
	}
	if len(results) == 0 {
		return []Result{{Errors: []FieldError{{Reason: "the batch holds no events"}}, Raw: body}}
	}
	return results
}

func refDecodeOne(i int, raw []byte, opts *Options) Result {
	ev, errs, id := refDecodeEvent(raw, opts)
	if ev != nil {
		id = ev.ID.String()
	}
	return Result{Index: i, ID: id, Event: ev, Errors: errs, Raw: raw}
}

func refDecodeLines(body []byte, opts *Options) []Result {
	var results []Result
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		results = append(results, refDecodeOne(len(results), line, opts))
	}
	return results
}

// refDecodeArray splits a JSON array into its elements and decodes each.
func refDecodeArray(body []byte, opts *Options) []Result {
	if body[0] != '[' {
		return []Result{{Errors: []FieldError{{Reason: "a batch must be a JSON array of events"}}, Raw: body}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	_, _ = dec.Token() // '['
	var results []Result
	for dec.More() {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return append(results, Result{
				Index:  len(results),
				Errors: []FieldError{{Reason: "malformed JSON in the batch after byte " + strconv.FormatInt(start, 10) + " (" + err.Error() + "); this and any later events were not read"}},
				Raw:    body[start:],
			})
		}
		results = append(results, refDecodeOne(len(results), raw, opts))
	}
	end := dec.InputOffset()
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return append(results, Result{Index: len(results), Errors: []FieldError{{Reason: "malformed JSON in the batch after byte " + strconv.FormatInt(end, 10) + "; the array is not closed properly"}}, Raw: body[end:]})
	}
	end = dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return append(results, Result{Index: len(results), Errors: []FieldError{{Reason: "unexpected data after the JSON array of events"}}, Raw: body[end:]})
	}
	return results
}

// refDepth is how deeply arrays and objects nest in n: 0 for a scalar.
func refDepth(n *refNode) int {
	if n.kind != jsonArray && n.kind != jsonObject {
		return 0
	}
	d := 0
	for _, m := range n.members {
		d = max(d, refDepth(m))
	}
	return d + 1
}
