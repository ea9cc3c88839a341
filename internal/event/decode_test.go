package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/identity"
)

func goodCorpus(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "good", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no good corpus: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func mustDecode(t *testing.T, b []byte, opts Options) *Event {
	t.Helper()
	ev, errs := Decode(b, opts)
	if len(errs) > 0 || ev == nil {
		t.Fatalf("Decode: %v", errs)
	}
	return ev
}

func TestDecode_AcceptsEveryGoodCorpusEvent(t *testing.T) {
	for name, b := range goodCorpus(t) {
		t.Run(name, func(t *testing.T) { mustDecode(t, b, testOptions()) })
	}
}

func TestDecode_ReadsTheSpecExample(t *testing.T) {
	ev := mustDecode(t, readCorpus(t, "good/collected.json"), testOptions())
	if ev.ID.String() != "0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10" || ev.Type != TypeCollected || ev.Source != "checkout-service" ||
		ev.Tenant != "inkcartridges" || !ev.Time.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) || ev.SpecVersion != "1.0" {
		t.Fatalf("envelope = %+v", ev)
	}
	if !ev.RecordedAt.IsZero() {
		t.Error("RecordedAt is set by the server, not by Decode")
	}
	c, ok := ev.Data.(*Collected)
	if !ok {
		t.Fatalf("Data = %T", ev.Data)
	}
	if c.Origin != (Origin{Kind: "consumer", Name: "checkout form"}) || c.System != "orders-db" || c.LegalBasis != "contract" ||
		!reflect.DeepEqual(c.Purposes, []string{"order_fulfillment", "marketing"}) || len(c.Elements) != 2 {
		t.Fatalf("data = %+v", c)
	}
	if got := string(c.Elements[1].Value); got != `{"street":"1 Main St","city":"Springfield","zip":"62701"}` {
		t.Errorf("value = %s, want compact JSON in input order", got)
	}
}

func TestDecode_NormalisesIdentifiersAndDefaults(t *testing.T) {
	tests := []struct {
		file   string
		want   []Identifier
		tenant string
	}{
		{"good/collected.json", []Identifier{{Kind: identity.Email, Value: "jane@example.com"}, {Kind: identity.CustomerID, Value: "C-1009"}}, "inkcartridges"},
		{"good/cloudevents-attributes.json", []Identifier{{Kind: identity.Phone, Value: "+46701234567"}, {Kind: identity.AdvertisingID, Value: "6d92078a-8246-4ba4-ae5b-76104861e7dc"}}, "inkcartridges"},
		{"good/linked.json", []Identifier{{Kind: identity.Email, Value: "jane@example.com"}, {Kind: identity.External, Namespace: "salesforce", Value: "003XYZ"}}, "inkcartridges"},
		{"good/collected-minimal.json", []Identifier{{Kind: identity.Email, Value: "jane@example.com"}, {Kind: identity.CustomerID, Value: "C-1009"}}, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := mustDecode(t, readCorpus(t, tt.file), testOptions())
			if !reflect.DeepEqual(ev.Subject.Identifiers, tt.want) {
				t.Errorf("identifiers = %#v", ev.Subject.Identifiers)
				for _, id := range ev.Subject.Identifiers {
					t.Logf("%s %s %s", id.Kind, id.Namespace, id.Value)
				}
			}
			if ev.Tenant != tt.tenant {
				t.Errorf("tenant = %q, want %q", ev.Tenant, tt.tenant)
			}
		})
	}
}

func TestEvent_MarshalJSONRoundTripsThroughDecode(t *testing.T) {
	for name, b := range goodCorpus(t) {
		t.Run(name, func(t *testing.T) {
			ev := mustDecode(t, b, testOptions())
			out, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			again := mustDecode(t, out, testOptions())
			if !reflect.DeepEqual(ev, again) {
				t.Fatalf("round trip changed the event:\n%s", out)
			}
			var stored Event
			if err := json.Unmarshal(out, &stored); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, &stored) {
				t.Fatalf("UnmarshalJSON differs from Decode:\n%s", out)
			}
			fast, err := DecodeStored(out)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, fast) {
				t.Fatalf("DecodeStored differs from Decode:\n got %+v\nwant %+v", fast, ev)
			}
		})
	}
}

func TestDecodeStored_HandsWhatItCannotAcceptToTheFullDecoder(t *testing.T) {
	good := mustDecode(t, goodCorpus(t)["collected.json"], testOptions())
	out, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		b       []byte
		wantErr string
	}{
		{"not JSON", []byte(`{"id":`), "stored event is invalid"},
		{"unknown type", bytes.Replace(out, []byte(`"data.collected"`), []byte(`"data.colected"`), 1), "type"},
		{"an identifier not normalised", bytes.Replace(out, []byte(`jane@example.com`), []byte(`Jane@Example.COM`), 1), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := DecodeStored(tc.b)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			// The full decoder normalises: the event is the original one.
			if err != nil || !reflect.DeepEqual(e, good) {
				t.Fatalf("DecodeStored = %+v, %v; want the normalised event", e, err)
			}
		})
	}
}

func TestEvent_ValuesWithHTMLCharactersRoundTripByteForByte(t *testing.T) {
	b := edited(t, "good/collected.json", set("data.elements[0].value", "PLACEHOLDER"))
	b = bytes.Replace(b, []byte(`"PLACEHOLDER"`), []byte("{\"note\": \"<b>Tom & Jerry</b>\u2028\"}"), 1) // unescaped, as other encoders send it
	ev := mustDecode(t, b, testOptions())
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if again := mustDecode(t, out, testOptions()); !reflect.DeepEqual(again, ev) {
		t.Fatalf("value changed: %s -> %s", ev.Data.ValueSlots()[0].Value, again.Data.ValueSlots()[0].Value)
	}
}

func TestEvent_UnmarshalJSONIgnoresTaxonomyAndFutureButNotStructure(t *testing.T) {
	future := edited(t, "good/collected.json", set("time", "2099-01-01T00:00:00Z"), set("data.purposes", []any{"retired_purpose"}))
	var ev Event
	if err := json.Unmarshal(future, &ev); err != nil {
		t.Fatalf("stored event with an old term and a far time: %v", err)
	}
	if err := json.Unmarshal(edited(t, "good/collected.json", del("data.system")), &ev); err == nil || !strings.Contains(err.Error(), "data.system") {
		t.Fatalf("err = %v, want data.system missing", err)
	}
}

func TestDecode_RejectsBadEventsNamingFieldAndReason(t *testing.T) {
	long := strings.Repeat("x", MaxStringBytes+1)
	tests := []struct {
		name    string
		base    string
		changes []change
		path    string
		reason  string
	}{
		{"misspelt field gets a suggestion", "good/collected.json", []change{set("data.purpose", []any{"marketing"}), del("data.purposes")}, "data.purpose", "unknown field `purpose`; did you mean `purposes`?"},
		{"camelCase field gets the snake_case suggestion", "good/collected.json", []change{set("data.legalBasis", "contract")}, "data.legalBasis", "did you mean `legal_basis`?"},
		{"unknown category gets a suggestion", "good/collected.json", []change{set("data.elements[0].category", "contact.emial")}, "data.elements[0].category", "unknown category `contact.emial` for tenant `inkcartridges`; did you mean `contact.email`?"},
		{"unknown category in the default tenant", "good/collected-minimal.json", []change{set("data.elements[0].category", "contact.emial")}, "data.elements[0].category", "unknown category `contact.emial`; did you mean `contact.email`?"},
		{"category of the wrong JSON type", "good/collected.json", []change{set("data.elements[1].category", 7)}, "data.elements[1].category", "must be a string, not number"},
		{"unknown source kind", "good/collected.json", []change{set("data.origin.kind", "customer")}, "data.origin.kind", "unknown source kind `customer`"},
		{"unknown purpose", "good/collected.json", []change{set("data.purposes[1]", "marketting")}, "data.purposes[1]", "unknown purpose `marketting` for tenant `inkcartridges`; did you mean `marketing`?"},
		{"tenant purpose is unknown to another tenant", "good/collected.json", []change{set("tenant", "otherbrand"), set("data.purposes", []any{"loyalty_program"})}, "data.purposes[0]", "unknown purpose `loyalty_program` for tenant `otherbrand`"},
		{"unknown legal basis", "good/collected.json", []change{set("data.legal_basis", "contact")}, "data.legal_basis", "unknown legal basis `contact`"},
		{"unknown recipient kind", "good/shared.json", []change{set("data.recipient.kind", "ad_network")}, "data.recipient.kind", "unknown recipient kind `ad_network`"},
		{"unknown recipient role", "good/shared.json", []change{set("data.recipient.role", "thirdparty")}, "data.recipient.role", "did you mean `third_party`?"},
		{"unknown disclosure type", "good/shared.json", []change{set("data.disclosure", "sold")}, "data.disclosure", "unknown disclosure type `sold`"},
		{"unassigned country", "good/shared.json", []change{set("data.recipient.country", "ZZ")}, "data.recipient.country", "ISO 3166-1 alpha-2"},
		{"lower-case country", "good/shared.json", []change{set("data.recipient.country", "us")}, "data.recipient.country", "upper-case"},
		{"input with a value", "good/processed.json", []change{set("data.inputs[0].value", "x")}, "data.inputs[0].value", "inputs carry no value"},
		{"automated decision without logic", "good/processed.json", []change{del("data.automated_decision.logic")}, "data.automated_decision.logic", "`logic` is required"},
		{"transfer abroad without mechanism", "good/transferred.json", []change{del("data.mechanism")}, "data.mechanism", "required with `to_country`"},
		{"unknown transfer mechanism", "good/transferred.json", []change{set("data.mechanism", "sccs")}, "data.mechanism", "unknown transfer mechanism `sccs` for tenant `inkcartridges`; did you mean `scc`?"},
		{"transfer to the same system", "good/transferred-internal.json", []change{set("data.to_system", "orders-db")}, "data.to_system", "same as `from_system`"},
		{"correction without value", "good/corrected.json", []change{del("data.elements[0].value")}, "data.elements[0].value", "`value` is required"},
		{"erasure naming nothing", "good/erased-all.json", []change{set("data.all", false)}, "data", "one of `elements`, `categories` or `all: true` is required"},
		{"erasure naming two things", "good/erased-categories.json", []change{set("data.all", true)}, "data", "exactly one"},
		{"unknown erasure reason", "good/erased-all.json", []change{set("data.reason", "customer_request")}, "data.reason", "did you mean `consumer_request`?"},
		{"unknown erased category", "good/erased-categories.json", []change{set("data.categories[0]", "contact.adress")}, "data.categories[0]", "unknown category `contact.adress`"},
		{"erased element with a value", "good/erased-elements.json", []change{set("data.elements[0].value", "x")}, "data.elements[0].value", "erased elements carry no value"},
		{"unknown consent status", "good/consent.json", []change{set("data.status", "optedout")}, "data.status", "unknown status `optedout`; did you mean `opted_out`?"},
		{"unknown consent choice", "good/consent.json", []change{set("data.choice", "sales")}, "data.choice", "unknown consent choice `sales` for tenant `inkcartridges`; did you mean `sale`?"},
		{"unknown consent mechanism", "good/consent.json", []change{set("data.mechanism", "global_privacy_control")}, "data.mechanism", "unknown consent mechanism `global_privacy_control`"},
		{"linked with one identifier", "good/linked.json", []change{del("subject.identifiers[1]")}, "subject.identifiers", "at least two identifiers"},
		{"linked with data", "good/linked.json", []change{set("data", map[string]any{"why": "x"})}, "data.why", "carry no data"},
		{"missing id", "good/consent.json", []change{del("id")}, "id", "`id` is required"},
		{"id not a UUID", "good/consent.json", []change{set("id", "evt-1")}, "id", "must be a UUID"},
		{"missing type", "good/consent.json", []change{del("type")}, "type", "`type` is required"},
		{"misspelt type", "good/consent.json", []change{set("type", "consent.change")}, "type", "did you mean `consent.changed`?"},
		{"request type from outside", "good/consent.json", []change{set("type", "request.opened")}, "type", "written by Custody itself"},
		{"time without zone", "good/consent.json", []change{set("time", "2026-03-01T12:00:00")}, "time", "RFC 3339"},
		{"time more than a day ahead", "good/consent.json", []change{set("time", "2026-03-03T00:00:01Z")}, "time", "in the future"},
		{"upper-case tenant", "good/consent.json", []change{set("tenant", "Ink")}, "tenant", "lower-case"},
		{"recordedat from input", "good/consent.json", []change{set("recordedat", "2026-03-01T12:00:00Z")}, "recordedat", "set by Custody"},
		{"wrong specversion", "good/consent.json", []change{set("specversion", "0.3")}, "specversion", "must be `1.0`"},
		{"non-JSON datacontenttype", "good/consent.json", []change{set("datacontenttype", "text/xml")}, "datacontenttype", "always JSON"},
		{"relative dataschema", "good/consent.json", []change{set("dataschema", "/schemas/x")}, "dataschema", "absolute URI"},
		{"blank source", "good/consent.json", []change{set("source", " ")}, "source", "must not be empty"},
		{"string over 1 KiB", "good/consent.json", []change{set("source", long)}, "source", "longer than 1 KiB"},
		{"control character in text", "good/consent.json", []change{set("data.system", "web\nfake log line")}, "data.system", "control characters"},
		{"no subject", "good/consent.json", []change{del("subject")}, "subject", "`subject` is required"},
		{"unknown identifier kind", "good/consent.json", []change{set("subject.identifiers[0].kind", "mail")}, "subject.identifiers[0].kind", "unknown identifier kind `mail`"},
		{"national phone number", "good/consent.json", []change{set("subject.identifiers[0]", map[string]any{"kind": "phone", "value": "(415) 555-0100"})}, "subject.identifiers[0].value", "phone is not in E.164 international format"},
		{"malformed email", "good/consent.json", []change{set("subject.identifiers[0].value", "jane.example.com")}, "subject.identifiers[0].value", "email address has no @"},
		{"external id without namespace", "good/consent.json", []change{set("subject.identifiers[1]", map[string]any{"kind": "external", "value": "1"})}, "subject.identifiers[1].namespace", "needs a namespace"},
		{"namespace on a customer id", "good/consent.json", []change{set("subject.identifiers[1].namespace", "crm")}, "subject.identifiers[1].namespace", "only allowed with kind `external`"},
		{"identifiers equal after normalisation", "good/consent.json", []change{set("subject.identifiers[1]", map[string]any{"kind": "email", "value": " JANE@example.com"})}, "subject.identifiers[1]", "same identifier as subject.identifiers[0]"},
		{"duplicate purposes", "good/collected.json", []change{set("data.purposes", []any{"marketing", "marketing"})}, "data.purposes[1]", "duplicate of data.purposes[0]"},
		{"elements not an array", "good/collected.json", []change{set("data.elements", map[string]any{"name": "email"})}, "data.elements", "must be an array, not object"},
		{"data of the wrong type", "good/collected.json", []change{set("data", "x")}, "data", "must be an object, not string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := edited(t, tt.base, tt.changes...)
			ev, errs := Decode(b, testOptions())
			if ev != nil {
				t.Fatalf("accepted: %s", b)
			}
			if !hasError(errs, tt.path, tt.reason) {
				t.Fatalf("errors = %v\nwant %s: …%s…", errs, tt.path, tt.reason)
			}
		})
	}
}

func TestDecode_ReportsEveryProblemNotJustTheFirst(t *testing.T) {
	b := edited(t, "good/shared.json",
		del("id"),
		set("time", "yesterday"),
		set("subject.identifiers[0].kind", "emial"),
		set("data.recipient.role", "3rd_party"),
		set("data.elements[1].category", "device.idenitfier"),
		set("data.purpose", "x"),
	)
	_, errs := Decode(b, testOptions())
	want := []string{"id", "time", "subject.identifiers[0].kind", "data.purpose", "data.recipient.role", "data.elements[1].category"}
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Path] = true
	}
	for _, p := range want {
		if !got[p] {
			t.Errorf("no error at %s; errors = %v", p, errs)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("%d errors, want %d: %v", len(errs), len(want), errs)
	}
}

func TestDecode_ErrorsNeverEchoIdentifierOrElementValues(t *testing.T) {
	b := edited(t, "good/corrected.json",
		set("subject.identifiers[0]", map[string]any{"kind": "phone", "value": "030 9018 2211"}),
		set("subject.identifiers[1]", map[string]any{"kind": "email", "value": "secret.person at example.com"}),
		set("data.elements[0].value", strings.Repeat("secret", MaxValueBytes/6+1)),
	)
	_, errs := Decode(b, testOptions())
	if len(errs) != 3 {
		t.Fatalf("errors = %v", errs)
	}
	for _, e := range errs {
		if strings.Contains(e.Reason, "9018") || strings.Contains(e.Reason, "secret") {
			t.Errorf("%s echoes a value: %s", e.Path, e.Reason)
		}
	}
}

func TestDecode_InternalTypesOnlyWithOption(t *testing.T) {
	b := edited(t, "good/consent.json", set("type", "request.opened"),
		set("data", map[string]any{"request_id": "R-1", "kind": "know", "channel": "web_form", "due_at": "2026-04-15T00:00:00Z", "extra": map[string]any{"window": "12m"}}))
	if ev, errs := Decode(b, testOptions()); ev != nil || !hasError(errs, "type", "written by Custody itself") {
		t.Fatalf("external decode accepted request.opened: %v", errs)
	}
	opts := testOptions()
	opts.AllowInternalTypes = true
	ev := mustDecode(t, b, opts)
	r, ok := ev.Data.(*Request)
	if !ok || r.RequestID != "R-1" || r.DueAt == nil || string(r.Extra) != `{"window":"12m"}` {
		t.Fatalf("data = %#v", ev.Data)
	}
	out, _ := json.Marshal(ev)
	if again := mustDecode(t, out, opts); !reflect.DeepEqual(again, ev) {
		t.Fatalf("request event does not round-trip: %s", out)
	}
	if _, errs := Decode(edited(t, "good/consent.json", set("type", "request.reopened")), opts); !hasError(errs, "type", "unknown event type") {
		t.Fatalf("errors = %v", errs)
	}
}

func TestDecode_EnforcesSizeLimits(t *testing.T) {
	many := func(n int, item any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = item
		}
		return out
	}
	ids := make([]any, MaxIdentifiers+1)
	for i := range ids {
		ids[i] = map[string]any{"kind": "cookie_id", "value": "c" + strings.Repeat("x", i)}
	}
	tests := []struct {
		name   string
		b      []byte
		path   string
		reason string
	}{
		{"more than 1000 elements", edited(t, "good/collected.json", set("data.elements", many(MaxElements+1, map[string]any{"name": "e", "category": "contact.email"}))), "data.elements", "at most 1000"},
		{"more than 50 identifiers", edited(t, "good/consent.json", set("subject.identifiers", ids)), "subject.identifiers", "at most 50"},
		{"value over 64 KiB", edited(t, "good/collected.json", set("data.elements[0].value", strings.Repeat("v", MaxValueBytes))), "data.elements[0].value", "larger than 64 KiB"},
		{"event over 256 KiB", edited(t, "good/collected.json", set("data.notice", strings.Repeat(" ", DefaultMaxEventBytes))), "", "larger than 256 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, errs := Decode(tt.b, testOptions()); !hasError(errs, tt.path, tt.reason) {
				t.Fatalf("errors = %v", errs)
			}
		})
	}
	exact := edited(t, "good/collected.json", set("data.elements[0].value", strings.Repeat("v", MaxValueBytes-2)))
	mustDecode(t, exact, testOptions())
}

func TestDecode_FutureSkewIsConfigurable(t *testing.T) {
	b := edited(t, "good/consent.json", set("time", "2026-03-02T01:00:00Z")) // Now + 1h
	mustDecode(t, b, testOptions())
	opts := testOptions()
	opts.MaxFutureSkew = 30 * time.Minute
	if _, errs := Decode(b, opts); !hasError(errs, "time", "30m0s in the future") {
		t.Fatalf("errors = %v", errs)
	}
}

func TestDecode_MalformedAndNonObjectInput(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"truncated", `{"id": "x", `, "malformed JSON"},
		{"array", `[{}]`, "must be a JSON object, not an array"},
		{"string", `"event"`, "not a string"},
		{"invalid UTF-8", "{\"source\": \"\xff\"}", "not valid UTF-8"},
		{"duplicate member", `{"type": "consent.changed", "type": "data.erased"}`, "duplicate field `type`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, errs := Decode([]byte(tt.in), testOptions())
			if ev != nil || len(errs) == 0 || !strings.Contains(errs[0].Reason, tt.reason) {
				t.Fatalf("errors = %v, want %q", errs, tt.reason)
			}
		})
	}
}

func TestValueSlots_PointIntoTheEventInOrder(t *testing.T) {
	tests := []struct {
		file  string
		names []string
	}{
		{"good/collected.json", []string{"email", "shipping_address"}},
		{"good/shared.json", []string{"email", "device"}},
		{"good/processed.json", []string{"ink_buyer_segment"}},
		{"good/transferred.json", []string{"email"}},
		{"good/corrected.json", []string{"shipping_address"}},
		{"good/erased-elements.json", nil},
		{"good/consent.json", nil},
		{"good/linked.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := mustDecode(t, readCorpus(t, tt.file), testOptions())
			var names []string
			for _, s := range ev.Data.ValueSlots() {
				names = append(names, s.Name)
				s.Value = json.RawMessage(`"sealed"`)
			}
			if !reflect.DeepEqual(names, tt.names) {
				t.Fatalf("slots = %v, want %v", names, tt.names)
			}
			for _, s := range ev.Data.ValueSlots() {
				if string(s.Value) != `"sealed"` {
					t.Fatal("writing through a slot did not change the event")
				}
			}
		})
	}
}

func TestOptions_Validate(t *testing.T) {
	if err := (Options{}).Validate(); err == nil || !strings.Contains(err.Error(), "Vocabulary") {
		t.Errorf("missing vocabulary: %v", err)
	}
	if err := (Options{Vocabulary: AnyTerm, MaxFutureSkew: -time.Second}).Validate(); err == nil {
		t.Error("negative skew accepted")
	}
	if err := (Options{Vocabulary: AnyTerm}).Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Decode with invalid options did not panic")
		}
	}()
	Decode([]byte(`{}`), Options{})
}

func TestEvent_PrintsAndLogsWithoutPersonalData(t *testing.T) {
	ev := mustDecode(t, readCorpus(t, "good/collected.json"), testOptions())
	var sb strings.Builder
	for _, verb := range []string{"%v", "%+v", "%s"} {
		sb.WriteString(ev.String())
		sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(sprintf(verb, ev.Data), "\n", ""), " ", " "))
		sb.WriteString(sprintf(verb, ev.Subject))
	}
	sb.WriteString(logged(ev))
	for _, secret := range []string{"jane@example.com", "Main St", "C-1009"} {
		if strings.Contains(sb.String(), secret) {
			t.Errorf("output leaks %q: %s", secret, sb.String())
		}
	}
}
