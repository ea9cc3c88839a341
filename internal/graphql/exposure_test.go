package graphql_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/config"
)

// Least exposure (issue 17 item 6): never-disclose values (11 CCR 7024(d))
// are masked in every read, an analyst's or an admin's; an admin reveals
// one in clear only with revealValue and a purpose, and the reveal is in
// the person's access log, naming the purpose and what was revealed but
// never the value.
func TestGraphQL_LeastExposure(t *testing.T) {
	const (
		card     = "4111111111111111"
		password = "hunter2-correct-horse"
		carol    = `{"kind":"email","value":"carol@example.com"}`
	)
	n := startNode(t, false)
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	n.ingest(t, []string{strings.Join(strings.Fields(ev("data.collected", at, carol, `{"elements":[
		{"name":"card_number","category":"financial.card_number","value":"`+card+`"},
		{"name":"password","category":"credentials.password","value":"`+password+`"},
		{"name":"email","category":"contact.email","value":"carol@example.com"}],
		"origin":{"kind":"consumer","name":"checkout"},"purposes":["payment_processing"],"system":"payments"}`)), " ")}, http.StatusOK)
	deadline := time.Now().Add(time.Minute)
	for {
		var d struct{ DataMap []struct{ Category string } }
		n.query(t, auth.Analyst, `query($t:String){ dataMap(tenant:$t){ category } }`, map[string]any{"t": tenant}, &d)
		if slices.ContainsFunc(d.DataMap, func(r struct{ Category string }) bool { return r.Category == "financial.card_number" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Carol's event not readable after a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}

	const subject = `query($t:String) { subject(identifier:"email:carol@example.com", tenant:$t, purpose:"support ticket 12") {
		elements { name category value masked }
		events { edges { node { id type masked data } } } } }`
	type subjectData struct {
		Subject struct {
			Elements []struct {
				Name, Category string
				Value          json.RawMessage
				Masked         bool
			}
			Events struct {
				Edges []struct {
					Node struct {
						ID, Type string
						Masked   bool
						Data     struct {
							Elements []struct {
								Name  string
								Value json.RawMessage
							}
						}
					}
				}
			}
		}
	}
	want := map[string]struct {
		value  string
		masked bool
	}{
		"card_number": {`"•••• 1111"`, true},
		"password":    {`"••••"`, true},
		"email":       {`"carol@example.com"`, false},
	}
	var collectedID string
	for _, role := range []auth.Role{auth.Analyst, auth.Admin} {
		t.Run("MaskedFor"+string(role), func(t *testing.T) {
			code, r := n.post(t, n.tokens[role], subject, map[string]any{"t": tenant})
			if code != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("%d %s", code, r.raw)
			}
			for _, clear := range []string{card, password, "111111111111"} {
				if strings.Contains(r.raw, clear) {
					t.Fatalf("the %s's answer shows %q: %s", role, clear, r.raw)
				}
			}
			var d subjectData
			if err := json.Unmarshal(r.Data, &d); err != nil {
				t.Fatal(err)
			}
			if len(d.Subject.Elements) != len(want) {
				t.Fatalf("elements = %+v", d.Subject.Elements)
			}
			for _, e := range d.Subject.Elements {
				if w := want[e.Name]; string(e.Value) != w.value || e.Masked != w.masked {
					t.Errorf("element %s = %s (masked %v), want %s (masked %v)", e.Name, e.Value, e.Masked, w.value, w.masked)
				}
			}
			edges := d.Subject.Events.Edges
			if len(edges) != 1 || edges[0].Node.Type != "data.collected" || !edges[0].Node.Masked || len(edges[0].Node.Data.Elements) != 3 {
				t.Fatalf("events = %+v", edges)
			}
			for _, e := range edges[0].Node.Data.Elements {
				if w := want[e.Name]; string(e.Value) != w.value {
					t.Errorf("events.data %s = %s, want %s", e.Name, e.Value, w.value)
				}
			}
			collectedID = edges[0].Node.ID
		})
	}
	if collectedID == "" {
		t.Fatal("no event to reveal from")
	}

	t.Run("LineageShowsNoValue", func(t *testing.T) {
		code, r := n.post(t, n.tokens[auth.Analyst], `{ lineage(identifier:"email:carol@example.com", tenant:"inkcartridges",
			category:"financial.card_number", name:"card_number", direction: BOTH, purpose:"p") { nodes { id name category } edges { attributes { key values } } } }`, nil)
		if code != http.StatusOK || len(r.Errors) > 0 || strings.Contains(r.raw, card) || strings.Contains(r.raw, "111111111111") {
			t.Fatalf("%d %s", code, r.raw)
		}
	})

	const reveal = `mutation($cat:String!, $name:String!, $event:UUID, $purpose:String!) {
		revealValue(identifier:"email:carol@example.com", tenant:"inkcartridges", category:$cat, name:$name, event:$event, purpose:$purpose) {
			tenant personId category name eventId value shredded } }`
	type revealed struct {
		RevealValue struct {
			Tenant, PersonID, Category, Name string
			EventID                          *string
			Value                            json.RawMessage
			Shredded                         bool
		}
	}

	t.Run("AdminReveals", func(t *testing.T) {
		var d revealed
		n.query(t, auth.Admin, reveal, map[string]any{"cat": "financial.card_number", "name": "card_number", "purpose": "chargeback 2026-118"}, &d)
		if v := d.RevealValue; string(v.Value) != `"`+card+`"` || v.EventID != nil || v.Tenant != tenant || v.PersonID == "" || v.Shredded {
			t.Fatalf("current value revealed = %+v (%s)", v, v.Value)
		}
		n.query(t, auth.Admin, reveal, map[string]any{"cat": "credentials.password", "name": "password", "event": collectedID,
			"purpose": "account takeover review"}, &d)
		if v := d.RevealValue; string(v.Value) != `"`+password+`"` || v.EventID == nil || *v.EventID != collectedID {
			t.Fatalf("event value revealed = %+v (%s)", v, v.Value)
		}
		// Revealing does not unmask later reads.
		code, r := n.post(t, n.tokens[auth.Admin], subject, map[string]any{"t": tenant})
		if code != http.StatusOK || strings.Contains(r.raw, card) {
			t.Fatalf("a read after a reveal: %d %s", code, r.raw)
		}
	})

	t.Run("RevealIsInTheAccessLog", func(t *testing.T) {
		code, r := n.post(t, n.tokens[auth.Analyst], `{ accessLog(identifier:"email:carol@example.com", tenant:"inkcartridges") {
			actor role operation purpose found revealed } }`, nil)
		if code != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("%d %s", code, r.raw)
		}
		if strings.Contains(r.raw, card) || strings.Contains(r.raw, password) {
			t.Fatalf("the access log shows a revealed value: %s", r.raw)
		}
		var d struct {
			AccessLog []struct {
				Actor, Role, Operation, Purpose, Revealed string
				Found                                     bool
			}
		}
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
		var reveals []string
		for _, e := range d.AccessLog {
			switch e.Operation {
			case "graphql.revealValue":
				if e.Actor != "test-admin" || e.Role != "admin" || !e.Found {
					t.Errorf("reveal entry %+v", e)
				}
				reveals = append(reveals, e.Purpose+" | "+e.Revealed)
			case "graphql.subject":
				if e.Revealed != "" {
					t.Errorf("a masked read says it revealed %q", e.Revealed)
				}
			}
		}
		wantReveals := []string{ // newest first
			"account takeover review | value of password (credentials.password) in event " + collectedID,
			"chargeback 2026-118 | value of card_number (financial.card_number), current",
		}
		if !slices.Equal(reveals, wantReveals) {
			t.Fatalf("reveals on record = %q, want %q", reveals, wantReveals)
		}
	})

	t.Run("AnalystMayNotReveal", func(t *testing.T) {
		r := n.fail(t, auth.Analyst, reveal, map[string]any{"cat": "financial.card_number", "name": "card_number", "purpose": "curious"},
			http.StatusForbidden, "FORBIDDEN")
		if strings.Contains(r.raw, card) {
			t.Fatalf("refusal shows the value: %s", r.raw)
		}
	})

	t.Run("RevealNeedsAPurpose", func(t *testing.T) {
		r := n.fail(t, auth.Admin, reveal, map[string]any{"cat": "financial.card_number", "name": "card_number", "purpose": "  "},
			http.StatusOK, "BAD_USER_INPUT")
		if !strings.HasPrefix(r.Errors[0].Message, "purpose:") || strings.Contains(r.raw, card) {
			t.Fatalf("refusal does not name the purpose: %s", r.raw)
		}
		// Without the argument at all: the query is invalid.
		code, r := n.post(t, n.tokens[auth.Admin], `mutation { revealValue(identifier:"email:carol@example.com", tenant:"inkcartridges",
			category:"financial.card_number", name:"card_number") { value } }`, nil)
		if code == http.StatusOK && len(r.Errors) == 0 || len(r.Errors) == 0 || r.Errors[0].Extensions.Code != "BAD_USER_INPUT" ||
			!strings.Contains(r.Errors[0].Message, "purpose") || strings.Contains(r.raw, card) {
			t.Fatalf("reveal without purpose: %d %s", code, r.raw)
		}
	})

	t.Run("RevealOfNothing", func(t *testing.T) {
		n.fail(t, auth.Admin, reveal, map[string]any{"cat": "financial.bank_account", "name": "iban", "purpose": "p"}, http.StatusOK, "NOT_FOUND")
		n.fail(t, auth.Admin, reveal, map[string]any{"cat": "financial.card_number", "name": "card_number", "event": "00000000-0000-4000-8000-000000000001",
			"purpose": "p"}, http.StatusOK, "NOT_FOUND")
		r := n.fail(t, auth.Admin, `mutation { revealValue(identifier:"email:nobody@example.com", tenant:"inkcartridges", category:"financial.card_number",
			name:"card_number", purpose:"p") { value } }`, nil, http.StatusOK, "NOT_FOUND")
		if string(r.Data) != "null" && string(r.Data) != "" {
			t.Fatalf("data for a reveal of no one: %s", r.raw)
		}
	})
}

// Issue 17: one events page could reach ~125 MiB (500 events of 256 KiB).
// A page stops before its events' data pass maxEventsPageBytes; the client
// pages on with the cursor and gets every event once.
func TestGraphQL_AnEventsPageIsBoundedInBytes(t *testing.T) {
	n := startNode(t, true)
	dave := `{"kind":"email","value":"dave@example.com"}`
	big := strings.Repeat("x", 60<<10) // 60 KiB, under the 64 KiB value limit
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	const total = 100 // ~6 MiB of data
	var lines []string
	for i := range total {
		lines = append(lines, ev("data.collected", at.Add(time.Duration(i)*time.Second), dave, `{"elements":[`+
			`{"name":"note","category":"content.feedback","value":"`+big+`"}],`+
			`"origin":{"kind":"consumer","name":"support"},"purposes":["customer_support"],"system":"helpdesk"}`))
	}
	for i := 0; i < total; i += 20 {
		n.ingest(t, lines[i:i+20], http.StatusOK)
	}
	type page struct {
		Subject *struct {
			Events struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
	}
	const q = `query($t:String, $after:String) { subject(identifier:"email:dave@example.com", tenant:$t, purpose:"size test") {
		events(first: 500, after: $after) { totalCount edges { node { id data } } pageInfo { hasNextPage endCursor } } } }`
	deadline := time.Now().Add(time.Minute)
	for {
		var p page
		n.query(t, auth.Admin, q, map[string]any{"t": tenant}, &p)
		if p.Subject != nil && p.Subject.Events.TotalCount == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Dave's events not readable after a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
	seen := map[string]bool{}
	var after any
	pages := 0
	for {
		code, r := n.post(t, n.tokens[auth.Admin], q, map[string]any{"t": tenant, "after": after})
		if code != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("page %d: %d %.300s", pages, code, r.raw)
		}
		if len(r.raw) > 5<<20 { // the page budget (4 MiB of data) and the rest of the answer
			t.Fatalf("page %d is %d bytes, over the bound", pages, len(r.raw))
		}
		var p page
		if err := json.Unmarshal(r.Data, &p); err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range p.Subject.Events.Edges {
			if seen[e.Node.ID] {
				t.Fatalf("event %s on two pages", e.Node.ID)
			}
			seen[e.Node.ID] = true
		}
		if !p.Subject.Events.PageInfo.HasNextPage {
			break
		}
		after = p.Subject.Events.PageInfo.EndCursor
	}
	if len(seen) != total || pages < 2 {
		t.Fatalf("%d events in %d pages, want %d in at least 2", len(seen), pages, total)
	}
}

// A tenant whose services send national phone numbers
// (tenants.<name>.default_phone_region) stores them in E.164; a privacy
// team asking for the person by the same national number must find them,
// not be told the business holds nothing.
func TestGraphQL_ANationalPhoneIsLookedUpInItsTenantsRegion(t *testing.T) {
	n := startNodeWith(t, true, func(c *config.Config) {
		if c.Tenants == nil {
			c.Tenants = map[string]config.TenantConfig{}
		}
		tc := c.Tenants[tenant]
		tc.DefaultPhoneRegion = "US"
		c.Tenants[tenant] = tc
	})
	erin := `{"kind":"phone","value":"(415) 555-0100"}`
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	n.ingest(t, []string{ev("data.collected", at, erin, `{"elements":[{"name":"phone","category":"contact.phone","value":"(415) 555-0100"}],`+
		`"origin":{"kind":"consumer","name":"support"},"purposes":["customer_support"],"system":"helpdesk"}`)}, http.StatusOK)
	const q = `query($id:String!, $t:String) { subject(identifier:$id, tenant:$t, purpose:"phone DSAR") { personId } }`
	type found struct{ Subject *struct{ PersonID string } }
	deadline := time.Now().Add(time.Minute)
	for {
		var f found
		n.query(t, auth.Admin, q, map[string]any{"id": "phone:(415) 555-0100", "t": tenant}, &f)
		if f.Subject != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the person was not found by the national number within a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The same person by the E.164 form.
	var f found
	n.query(t, auth.Admin, q, map[string]any{"id": "phone:+14155550100", "t": tenant}, &f)
	if f.Subject == nil {
		t.Fatal("not found by the E.164 number")
	}
	// Another tenant has no region: a national number is a clear input error.
	n.fail(t, auth.Admin, q, map[string]any{"id": "phone:(415) 555-0100", "t": "othershop"}, http.StatusOK, "BAD_USER_INPUT")
}
