package event

import (
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/identity"
)

var (
	envelopeFields = []string{"id", "specversion", "type", "source", "time", "tenant", "subject", "data", "datacontenttype", "dataschema"}
	earliestTime   = mustTime(earliestEventAt)
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Decode decodes and validates one event (a JSON object). It returns the
// event, or nil and every problem found. Decode panics if opts.Validate
// fails.
func Decode(b []byte, opts Options) (*Event, []FieldError) {
	opts = opts.withDefaults()
	ev, errs, _ := decodeEvent(b, &opts, new(treeParser))
	return ev, errs
}

// decodeEvent also returns the event's id as sent, when it is a string. p
// parses the JSON; its last tree is garbage when decodeEvent returns.
func decodeEvent(raw []byte, opts *Options, p *treeParser) (*Event, []FieldError, string) {
	if len(raw) > opts.Limits.MaxEventBytes {
		return nil, []FieldError{{Reason: "event is larger than " + sizeText(opts.Limits.MaxEventBytes)}}, ""
	}
	if !utf8.Valid(raw) {
		return nil, []FieldError{{Reason: "event is not valid UTF-8"}}, ""
	}
	root, err := p.parse(raw, opts.keepDepth())
	if err != nil {
		return nil, []FieldError{{Reason: err.Error()}}, ""
	}
	w := &walker{opts: opts, tenant: DefaultTenant}
	if root.kind != jsonObject {
		got := withArticle(root.kind)
		if root.kind == jsonNull {
			got = "null"
		}
		return nil, []FieldError{{Reason: "an event must be a JSON object, not " + got}}, ""
	}
	ev, id := w.envelope(root)
	if p.cut && len(w.errs) == 0 {
		// Only values are nested deeper than the tree is built, and the
		// walk rejects those; should anything else ever be, it is refused
		// rather than read from a partial tree.
		w.fail("", "arrays and objects are nested more than "+strconv.Itoa(opts.keepDepth())+" levels deep")
	}
	if len(w.errs) > 0 {
		return nil, w.errs, id
	}
	return ev, nil, id
}

func (w *walker) envelope(root *node) (*Event, string) {
	f, _ := w.object(root, at{}, envelopeFields...)
	ev := &Event{SpecVersion: SpecVersion, Tenant: DefaultTenant}
	var rawID string
	ev.ID, rawID = w.eventID(f)
	if n := f.get("specversion"); w.want(n, atPath("specversion"), jsonString) && decodeString(n.raw) != SpecVersion {
		w.fail("specversion", "must be `1.0` (CloudEvents 1.0) or left out")
	}
	ev.Type = w.eventType(f)
	ev.Source = w.text(f, "source", true)
	ev.Time = w.eventTime(f)
	if n := f.get("tenant"); w.want(n, atPath("tenant"), jsonString) {
		if t := decodeString(n.raw); isTenantText(t) {
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

func (w *walker) eventID(f fields) (uuid.UUID, string) {
	n := w.need(f, "id")
	if !w.want(n, atPath("id"), jsonString) {
		return uuid.Nil, ""
	}
	s := decodeString(n.raw)
	id, err := uuid.Parse(s)
	switch {
	case !isUUIDText(s) || err != nil:
		w.fail("id", "must be a UUID such as `0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10` (it is the idempotency key)")
		return uuid.Nil, clip(s, 64)
	case id == uuid.Nil:
		w.fail("id", "must not be the nil UUID; give every event its own UUID (v7 recommended)")
		return uuid.Nil, s
	}
	return id, id.String()
}

// eventType returns the type, or "" when it is missing or not acceptable.
func (w *walker) eventType(f fields) Type {
	n := w.need(f, "type")
	if !w.want(n, atPath("type"), jsonString) {
		return ""
	}
	t := typeOf(n.raw)
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

// typeOf returns the type a string token names; the types services send
// come without copying the name.
func typeOf(raw []byte) Type {
	for _, k := range ExternalTypes() {
		if string(raw[1:len(raw)-1]) == string(k) {
			return k
		}
	}
	return Type(decodeString(raw))
}

func (w *walker) eventTime(f fields) time.Time {
	n := w.need(f, "time")
	if !w.want(n, atPath("time"), jsonString) {
		return time.Time{}
	}
	s := decodeString(n.raw)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !isTimeText(s) {
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

func (w *walker) dataContentType(f fields) string {
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

func (w *walker) dataSchema(f fields) string {
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

func (w *walker) subject(f fields, t Type) Subject {
	n := w.need(f, "subject")
	sf, ok := w.object(n, atPath("subject"), "identifiers")
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
	for i := range items {
		p := sf.path.field("identifiers").index(i)
		id, ok := w.identifier(&items[i], p)
		if !ok {
			continue
		}
		if j, dup := first[id]; dup {
			w.failAt(p, "same identifier as "+index("subject.identifiers", j))
			continue
		}
		first[id] = i
		out = append(out, id)
	}
	return Subject{Identifiers: out}
}

func (w *walker) identifier(n *node, path at) (Identifier, bool) {
	f, ok := w.object(n, path, "kind", "namespace", "value")
	if !ok {
		return Identifier{}, false
	}
	var id Identifier
	kn, nn, vn := w.need(f, "kind"), f.get("namespace"), w.need(f, "value")
	kindOK := false
	if w.want(kn, path.field("kind"), jsonString) {
		id.Kind = identity.Kind(decodeString(kn.raw))
		if kindOK = id.Kind.Valid(); !kindOK {
			kinds := typeNames(identity.Kinds())
			w.failAt(path.field("kind"), unknownValue("identifier kind", string(id.Kind), kinds))
		}
	}
	nsOK := nn == nil || w.want(nn, path.field("namespace"), jsonString)
	if nsOK && nn != nil {
		id.Namespace = decodeString(nn.raw)
	}
	valueOK := w.want(vn, path.field("value"), jsonString)
	if valueOK {
		id.Value = decodeString(vn.raw)
	}
	if !kindOK || !nsOK || (vn != nil && !valueOK) {
		return Identifier{}, false
	}
	if nn != nil && !id.Kind.NeedsNamespace() {
		w.failAt(path.field("namespace"), "namespace is only allowed with kind `external`; remove it")
		return Identifier{}, false
	}
	norm, err := id.NormalizedIn(w.opts.PhoneRegions[w.tenant])
	if vn == nil {
		// Value is reported missing; still check the namespace.
		_, err = identity.NormalizeNamespace(id.Kind, id.Namespace)
		if err == nil {
			return Identifier{}, false
		}
	}
	if err != nil {
		if ie, ok := err.(*identity.Error); ok {
			w.failAt(path.field(ie.Field), ie.Reason)
		} else {
			w.failAt(path, "invalid identifier")
		}
		return Identifier{}, false
	}
	return norm, true
}
