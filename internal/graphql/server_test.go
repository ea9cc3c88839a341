package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/clickhouse/embedded"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/node"
)

// These tests run the single-node server (node.Run: embedded ClickHouse,
// embedded NATS, ingest and GraphQL on one port) in-process and talk to it
// over real HTTP only: events go in through POST /v1/events with a
// publisher token, and everything is read back through /graphql.

const tenant = "inkcartridges"

// testNode is a running single-node server.
type testNode struct {
	url     string
	dataDir string
	tokens  map[auth.Role]string // secrets by role
}

// startNode runs node.Run on a fresh data directory and waits until it is
// ready. In production mode it has a publisher, an analyst and an admin
// token; in dev mode anonymous requests are an admin.
func startNode(t *testing.T, dev bool) *testNode {
	t.Helper()
	return startNodeWith(t, dev, nil)
}

// startNodeWith is startNode with the loaded configuration changed by
// mutate (when not nil) before the node starts.
func startNodeWith(t *testing.T, dev bool, mutate func(*config.Config)) *testNode {
	t.Helper()
	chtest.RequireLibrary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"CUSTODY_DATA_DIR=" + dir, "CUSTODY_HTTP_ADDR=" + addr, "CUSTODY_LOG_LEVEL=error", "CUSTODY_LOG_FORMAT=text"}
	if dev {
		env = append(env, "CUSTODY_DEV=true")
	}
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{url: "http://" + addr, dataDir: dir, tokens: map[auth.Role]string{}}
	if !dev {
		for _, role := range []auth.Role{auth.Publisher, auth.Analyst, auth.Admin} {
			secret, err := auth.NewSecret()
			if err != nil {
				t.Fatal(err)
			}
			n.tokens[role] = secret
			cfg.Auth.Tokens = append(cfg.Auth.Tokens, auth.Token{Name: "test-" + string(role), Role: role, SHA256: auth.Hash(secret)})
		}
	}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx, cfg, "test", node.RoleSingleNode) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("node stopped with %v", err)
			}
		case <-time.After(90 * time.Second):
			t.Errorf("node did not stop within 90s")
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-done:
			t.Fatalf("node exited before it was ready: %v", err)
		default:
		}
		if resp, err := http.Get(n.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("node not ready after 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// gqlError is one error of a GraphQL response.
type gqlError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	raw    string
}

// post sends a GraphQL request with token ("" for none) and returns the
// status and the decoded response.
func (n *testNode) post(t *testing.T, token, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, n.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, gqlResponse) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r gqlResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response %d is not JSON: %s", resp.StatusCode, b)
	}
	r.raw = string(b)
	return resp.StatusCode, r
}

// query runs a query that must succeed and decodes its data into out.
func (n *testNode) query(t *testing.T, role auth.Role, query string, vars map[string]any, out any) {
	t.Helper()
	code, r := n.post(t, n.tokens[role], query, vars)
	if code != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("query failed: %d %s", code, r.raw)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
}

// fail runs a request that must fail with status and code.
func (n *testNode) fail(t *testing.T, role auth.Role, query string, vars map[string]any, status int, code string) gqlResponse {
	t.Helper()
	got, r := n.post(t, n.tokens[role], query, vars)
	if got != status || len(r.Errors) == 0 || r.Errors[0].Extensions.Code != code {
		t.Fatalf("want %d %s, got %d %s", status, code, got, r.raw)
	}
	return r
}

// ingest posts NDJSON events with the publisher token.
func (n *testNode) ingest(t *testing.T, events []string, wantStatus int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, n.url+"/v1/events", strings.NewReader(strings.Join(events, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if tok := n.tokens[auth.Publisher]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("POST /v1/events = %d, want %d: %s", resp.StatusCode, wantStatus, b)
	}
}

// ev renders one event of the contract.
func ev(typ string, at time.Time, ids, data string) string {
	s := fmt.Sprintf(`{"id":%q,"type":%q,"source":"graphql-test","time":%q,"tenant":%q,"subject":{"identifiers":[%s]}`,
		uuid.NewString(), typ, at.Format(time.RFC3339), tenant, ids)
	if data != "" {
		s += `,"data":` + data
	}
	return s + "}"
}

const (
	janeEmail  = `{"kind":"email","value":"jane@example.com"}`
	janeCustID = `{"kind":"customer_id","value":"C-1009"}`
	janeDevice = `{"kind":"device_id","value":"D-1"}`
	bobEmail   = `{"kind":"email","value":"bob@example.com"}`
	adNet      = `{"name":"AdNet","kind":"advertising_network","role":"third_party","country":"US"}`
)

// seed sends the scenario and waits until the last of it is readable. Jane
// is collected at checkout, her device separately, and a link joins the
// two people; her email is shared with an ad network (as is Bob's), her
// purchases profiled, her sale opt-out recorded by GPC, her email
// corrected and her IP address erased under the retention policy.
func seed(t *testing.T, n *testNode) (janeEvents int) {
	t.Helper()
	base := time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	h := func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }
	jane := []string{
		ev("data.collected", h(0), janeEmail+","+janeCustID, `{"elements":[{"name":"email","category":"contact.email","value":"jane@example.com"},
			{"name":"purchases","category":"commercial.purchase_history","value":["ink-xl"]}],
			"origin":{"kind":"consumer","name":"checkout"},"purposes":["order_fulfilment"],"system":"orders-db"}`),
		ev("data.collected", h(1), janeDevice, `{"elements":[{"name":"ip","category":"online.ip_address","value":"203.0.113.7"}],
			"origin":{"kind":"device","name":"web"},"purposes":["analytics"],"system":"web-logs"}`),
		ev("subject.linked", h(2), janeCustID+","+janeDevice, ""),
		ev("data.shared", h(3), janeEmail, `{"recipient":`+adNet+`,"elements":[{"name":"email","category":"contact.email"}],
			"purposes":["targeted_advertising"],"disclosure":"sharing","system":"orders-db"}`),
		ev("data.processed", h(4), janeCustID, `{"activity":"ink_profiling","purposes":["personalization"],
			"inputs":[{"name":"purchases","category":"commercial.purchase_history"}],
			"outputs":[{"name":"prefs","category":"inference.preferences","value":"xl-ink buyer"}],"system":"recommender",
			"automated_decision":{"significant":false,"logic":"ranks offers by past cartridge sizes"}}`),
		ev("consent.changed", h(5), janeEmail, `{"choice":"sale","status":"opted_out","mechanism":"gpc"}`),
		ev("data.corrected", h(6), janeEmail, `{"elements":[{"name":"email","category":"contact.email","value":"jane.doe@example.com"}],"system":"orders-db"}`),
		ev("data.erased", h(7), janeDevice, `{"elements":[{"name":"ip","category":"online.ip_address"}],"reason":"retention","system":"web-logs"}`),
	}
	bob := []string{
		ev("data.collected", h(1), bobEmail, `{"elements":[{"name":"email","category":"contact.email","value":"bob@example.com"}],
			"origin":{"kind":"consumer","name":"checkout"},"purposes":["order_fulfilment"],"system":"orders-db"}`),
		ev("data.shared", h(2), bobEmail, `{"recipient":`+adNet+`,"elements":[{"name":"email","category":"contact.email"}],
			"purposes":["targeted_advertising"],"disclosure":"sharing","system":"orders-db"}`),
	}
	all := append(append([]string{}, bob...), jane...)
	for i := range all {
		all[i] = strings.Join(strings.Fields(all[i]), " ")
	}
	n.ingest(t, all, http.StatusOK)
	// A misspelt category: refused, kept for inspection and replay.
	n.ingest(t, []string{ev("data.collected", h(0), bobEmail, `{"elements":[{"name":"email","category":"contact.emial"}],"origin":{"kind":"consumer"},"purposes":["order_fulfilment"],"system":"crm"}`)},
		http.StatusUnprocessableEntity)

	// The pipeline stores the batch asynchronously: wait for its last
	// facts. (The data map is read without touching anyone's access log.)
	deadline := time.Now().Add(time.Minute)
	for {
		var d struct {
			Recipients []struct {
				Name   string
				People int
			}
			DataMap []struct{ Category string }
		}
		n.query(t, auth.Analyst, `query($t:String){ recipients(tenant:$t){ name people } dataMap(tenant:$t){ category } }`, map[string]any{"t": tenant}, &d)
		ready := len(d.Recipients) == 1 && d.Recipients[0].People == 2 &&
			slices.ContainsFunc(d.DataMap, func(r struct{ Category string }) bool { return r.Category == "inference.preferences" })
		if ready {
			return len(jane)
		}
		if time.Now().After(deadline) {
			t.Fatalf("seeded events not readable after a minute: %+v", d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestGraphQL_SingleNode(t *testing.T) {
	n := startNode(t, false)
	janeEvents := seed(t, n)

	t.Run("Auth", func(t *testing.T) {
		q := `{ requests { id } }`
		for _, tc := range []struct {
			name, token string
			want        int
		}{
			{"missing token", "", http.StatusUnauthorized},
			{"unknown token", "cst_not-a-token", http.StatusUnauthorized},
			{"publisher", n.tokens[auth.Publisher], http.StatusForbidden},
			{"analyst", n.tokens[auth.Analyst], http.StatusOK},
			{"admin", n.tokens[auth.Admin], http.StatusOK},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if code, r := n.post(t, tc.token, q, nil); code != tc.want {
					t.Fatalf("POST = %d, want %d: %s", code, tc.want, r.raw)
				}
				req, _ := http.NewRequest(http.MethodGet, n.url+"/graphql?query="+url.QueryEscape(q), nil)
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Fatalf("GET = %d, want %d", resp.StatusCode, tc.want)
				}
				if tc.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			})
		}
	})

	t.Run("MutationsNeedAdmin", func(t *testing.T) {
		r := n.fail(t, auth.Analyst, `mutation { denyRequest(id:"r", input:{basis: OTHER, reason:"x"}) { id } }`, nil, http.StatusForbidden, "FORBIDDEN")
		if !strings.Contains(r.Errors[0].Message, "mutations need admin") || string(r.Data) != "" && string(r.Data) != "null" {
			t.Fatalf("unexpected refusal: %s", r.raw)
		}
		// A mutation is never run over GET, whoever asks.
		req, _ := http.NewRequest(http.MethodGet, n.url+"/graphql?query="+url.QueryEscape(`mutation { replayRejected(ids:[]) { replayed } }`), nil)
		req.Header.Set("Authorization", "Bearer "+n.tokens[auth.Admin])
		if code, r := do(t, req); code == http.StatusOK {
			t.Fatalf("GET mutation answered 200: %s", r.raw)
		}
	})

	t.Run("IntrospectionOffInProduction", func(t *testing.T) {
		for _, q := range []string{
			`{ __schema { queryType { name } } }`,
			`{ __type(name: "Subject") { name } }`,
			`query { ...F } fragment F on Query { __schema { types { name } } }`,
		} {
			n.fail(t, auth.Admin, q, nil, http.StatusForbidden, "FORBIDDEN")
		}
		var d struct {
			Typename string `json:"__typename"`
		}
		n.query(t, auth.Analyst, `{ __typename }`, nil, &d)
		if d.Typename != "Query" {
			t.Fatalf("__typename = %q", d.Typename)
		}
		if resp, err := http.Get(n.url + "/graphql/play"); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GraphiQL served outside dev mode: %v %v", resp.StatusCode, err)
		}
	})

	t.Run("Limits", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := range 10 {
			fmt.Fprintf(&b, ` s%d: subject(identifier:"email:p%d@example.com", purpose:"load") { personId }`, i, i)
		}
		b.WriteString("}")
		r := n.fail(t, auth.Analyst, b.String(), nil, http.StatusUnprocessableEntity, "TOO_LARGE")
		if !strings.Contains(r.Errors[0].Message, "complexity") {
			t.Fatalf("complexity refusal does not say why: %s", r.raw)
		}
		// lineage, nodes, then five hops of outgoing/toNode, then id: 13 levels.
		deep := `{ lineage(identifier:"email:jane@example.com", tenant:"inkcartridges", purpose:"p") { nodes ` +
			strings.Repeat("{ outgoing { toNode ", 5) + "{ id }" + strings.Repeat(" } }", 5) + " } }"
		r = n.fail(t, auth.Analyst, deep, nil, http.StatusUnprocessableEntity, "TOO_LARGE")
		if !strings.Contains(r.Errors[0].Message, "levels deep") {
			t.Fatalf("depth refusal does not say why: %s", r.raw)
		}
		n.fail(t, auth.Analyst, `{ subject(identifier:"email:jane@example.com", tenant:"inkcartridges", purpose:"p") { events(first: 501) { totalCount } } }`,
			nil, http.StatusOK, "BAD_USER_INPUT")
		huge := `{ __typename }` + strings.Repeat(" ", 2<<20)
		n.fail(t, auth.Analyst, huge, nil, http.StatusRequestEntityTooLarge, "TOO_LARGE")
	})

	t.Run("Subject", func(t *testing.T) {
		const q = `query($id:String!, $t:String, $first:Int, $after:String) {
			subject(identifier:$id, tenant:$t, purpose:"dsar-check") {
				tenant personId identifiers { kind namespace hash } eventCount
				elements { name category status value shredded firstCollected systems sources { kind name } purposes }
				categories { category elements }
				disclosures { recipient kind role disclosure categories countries count first }
				activities { activity system outputs { name category } automatedDecisions { significant logic } }
				consents { choice current since timeline { status mechanism eventId } }
				erasures { eventId reason elements { name category } system all }
				corrections { eventId elements { name category } }
				merges { eventId former into }
				events(first:$first, after:$after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
					edges { cursor node { id type time recordedAt tenant shredded data identifiers { kind hash } } } }
			} }`
		type element struct {
			Name, Category, Status string
			Value                  json.RawMessage
			Shredded               bool
			FirstCollected         *string
			Systems                []string
		}
		type page struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage, HasPreviousPage bool
				EndCursor                    string
			}
			Edges []struct {
				Node struct {
					ID, Type, Tenant string
					Data             json.RawMessage
					Identifiers      []struct{ Kind, Hash string }
				}
			}
		}
		var d struct {
			Subject *struct {
				Tenant, PersonID string
				Identifiers      []struct{ Kind, Namespace, Hash string }
				EventCount       int
				Elements         []element
				Disclosures      []struct {
					Recipient, Kind, Role, Disclosure string
					Countries                         []string
					Count                             int
				}
				Activities []struct {
					Activity           string
					Outputs            []struct{ Name, Category string }
					AutomatedDecisions []struct {
						Significant bool
						Logic       string
					}
				}
				Consents []struct {
					Choice, Current string
					Timeline        []struct{ Status, Mechanism string }
				}
				Erasures    []struct{ Reason string }
				Corrections []struct{ EventID string }
				Merges      []struct {
					Former []string
					Into   string
				}
				Events page
			}
		}
		// Any of Jane's identifiers finds all of her.
		n.query(t, auth.Analyst, q, map[string]any{"id": "device_id:D-1", "t": tenant, "first": 3}, &d)
		s := d.Subject
		if s == nil {
			t.Fatal("Jane not found by her device id")
		}
		kinds := []string{}
		for _, id := range s.Identifiers {
			kinds = append(kinds, id.Kind)
			if len(id.Hash) != 64 {
				t.Errorf("identifier %s: hash %q is not a hex HMAC", id.Kind, id.Hash)
			}
		}
		if !slices.Equal(kinds, []string{"email", "customer_id", "device_id"}) {
			t.Errorf("identifiers = %v", kinds)
		}
		if s.Tenant != tenant || s.EventCount != janeEvents {
			t.Errorf("tenant %q, eventCount %d; want %q, %d", s.Tenant, s.EventCount, tenant, janeEvents)
		}
		byName := map[string]element{}
		for _, e := range s.Elements {
			byName[e.Name] = e
		}
		if e := byName["email"]; e.Status != "CORRECTED" || string(e.Value) != `"jane.doe@example.com"` || e.FirstCollected == nil {
			t.Errorf("email = %+v, want corrected to jane.doe@example.com", e)
		}
		if e := byName["ip"]; e.Status != "ERASED" || e.Value != nil && string(e.Value) != "null" {
			t.Errorf("ip = %+v, want erased without a value", e)
		}
		if e := byName["prefs"]; e.Status != "HELD" || string(e.Value) != `"xl-ink buyer"` {
			t.Errorf("derived prefs = %+v", e)
		}
		if len(s.Disclosures) != 1 || s.Disclosures[0].Recipient != "AdNet" || s.Disclosures[0].Disclosure != "sharing" ||
			s.Disclosures[0].Role != "third_party" || !slices.Equal(s.Disclosures[0].Countries, []string{"US"}) {
			t.Errorf("disclosures = %+v", s.Disclosures)
		}
		if len(s.Activities) != 1 || s.Activities[0].Activity != "ink_profiling" || len(s.Activities[0].AutomatedDecisions) != 1 ||
			s.Activities[0].AutomatedDecisions[0].Logic == "" {
			t.Errorf("activities = %+v", s.Activities)
		}
		if len(s.Consents) != 1 || s.Consents[0].Current != "OPTED_OUT" || len(s.Consents[0].Timeline) != 1 || s.Consents[0].Timeline[0].Mechanism != "gpc" {
			t.Errorf("consents = %+v", s.Consents)
		}
		if len(s.Erasures) != 1 || s.Erasures[0].Reason != "retention" || len(s.Corrections) != 1 {
			t.Errorf("erasures %+v, corrections %+v", s.Erasures, s.Corrections)
		}
		if len(s.Merges) != 1 || len(s.Merges[0].Former) != 2 || s.Merges[0].Into == "" {
			t.Errorf("merges = %+v, want the link joining checkout and device", s.Merges)
		}

		// The timeline, a page at a time, covers every event once.
		var seen []string
		p := s.Events
		for {
			if p.TotalCount != janeEvents {
				t.Fatalf("totalCount = %d, want %d", p.TotalCount, janeEvents)
			}
			for _, e := range p.Edges {
				seen = append(seen, e.Node.ID)
				if e.Node.Tenant != tenant || len(e.Node.Identifiers) == 0 {
					t.Errorf("event %+v", e.Node)
				}
				if e.Node.Type != "subject.linked" && len(e.Node.Data) == 0 {
					t.Errorf("event %s (%s) without data", e.Node.ID, e.Node.Type)
				}
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			n.query(t, auth.Analyst, q, map[string]any{"id": "email:jane@example.com", "t": tenant, "first": 3, "after": p.PageInfo.EndCursor}, &d)
			p = d.Subject.Events
			if !p.PageInfo.HasPreviousPage {
				t.Fatal("a later page says it has no previous page")
			}
		}
		slices.Sort(seen)
		if len(seen) != janeEvents || len(slices.Compact(seen)) != janeEvents {
			t.Fatalf("pages gave %d events (%d distinct), want %d", len(seen), len(slices.Compact(seen)), janeEvents)
		}

		n.fail(t, auth.Analyst, q, map[string]any{"id": "email:jane@example.com", "t": tenant, "after": "bm9wZQ"}, http.StatusOK, "BAD_USER_INPUT")
		n.fail(t, auth.Analyst, q, map[string]any{"id": "emial:jane@example.com", "t": tenant}, http.StatusOK, "BAD_USER_INPUT")
		n.fail(t, auth.Analyst, `{ subject(identifier:"email:jane@example.com", purpose:"  ") { personId } }`, nil, http.StatusOK, "BAD_USER_INPUT")
		n.fail(t, auth.Analyst, `{ subject(identifier:"email:jane@example.com", from:"yesterday", purpose:"p") { personId } }`, nil, http.StatusOK, "BAD_USER_INPUT")

		// No one: null, and the lookup is on record all the same.
		var none struct{ Subject *struct{ PersonID string } }
		n.query(t, auth.Analyst, `{ subject(identifier:"email:nobody@example.com", tenant:"inkcartridges", purpose:"dsar-check") { personId } }`, nil, &none)
		if none.Subject != nil {
			t.Fatalf("unknown person: %+v", none.Subject)
		}
	})

	t.Run("AccessLog", func(t *testing.T) {
		type entry struct {
			Actor, Role, Operation, Purpose string
			Found                           bool
			At                              string
			Identifier                      struct{ Kind string }
		}
		var d struct{ AccessLog []entry }
		// Looked up by device id and by email above; listed by customer id.
		n.query(t, auth.Analyst, `{ accessLog(identifier:"customer_id:C-1009", tenant:"inkcartridges") { actor role operation purpose found at identifier { kind } } }`, nil, &d)
		var reads []entry
		for _, e := range d.AccessLog {
			if e.Operation == "graphql.subject" && e.Purpose == "dsar-check" {
				reads = append(reads, e)
			}
		}
		if len(reads) < 2 {
			t.Fatalf("access log lacks the subject reads: %+v", d.AccessLog)
		}
		for _, e := range reads {
			if e.Actor != "test-analyst" || e.Role != "analyst" || !e.Found || e.At == "" {
				t.Errorf("entry %+v", e)
			}
		}
		n.query(t, auth.Analyst, `{ accessLog(identifier:"email:nobody@example.com", tenant:"inkcartridges") { operation found } }`, nil, &d)
		if len(d.AccessLog) != 1 || d.AccessLog[0].Found {
			t.Fatalf("lookup of no one: %+v", d.AccessLog)
		}
	})

	t.Run("Lineage", func(t *testing.T) {
		const q = `query($dir: LineageDirection, $depth: Int, $cat: String, $name: String) {
			lineage(identifier:"email:jane@example.com", tenant:"inkcartridges", category:$cat, name:$name, direction:$dir, depth:$depth, purpose:"lineage-review") {
				personId root direction isPartial
				nodes { id kind name type roles countries incoming { kind } outgoing { kind } }
				edges { kind from to via eventIds attributes { key values } fromNode { id } toNode { id kind } }
				paths { target nodeIds edges { kind } }
			} }`
		type lin struct {
			Lineage *struct {
				PersonID, Root, Direction string
				IsPartial                 bool
				Nodes                     []struct{ ID, Kind, Name, Type string }
				Edges                     []struct {
					Kind, From, To, Via string
					EventIDs            []string
					FromNode            struct{ ID string }
					ToNode              struct{ ID, Kind string }
				}
				Paths []struct {
					Target  string
					NodeIDs []string
					Edges   []struct{ Kind string }
				}
			}
		}
		var d lin
		n.query(t, auth.Analyst, q, map[string]any{"cat": "contact.email", "name": "email"}, &d)
		l := d.Lineage
		if l == nil || l.Direction != "DOWNSTREAM" || l.IsPartial {
			t.Fatalf("lineage = %+v", l)
		}
		var recipient string
		for _, nd := range l.Nodes {
			if nd.Kind == "RECIPIENT" && nd.Name == "AdNet" && nd.Type == "advertising_network" {
				recipient = nd.ID
			}
		}
		if recipient == "" {
			t.Fatalf("the email's lineage does not reach AdNet: %+v", l.Nodes)
		}
		for _, e := range l.Edges {
			if e.FromNode.ID != e.From || e.ToNode.ID != e.To || len(e.EventIDs) == 0 {
				t.Errorf("edge %+v does not resolve its nodes", e)
			}
		}
		i := slices.IndexFunc(l.Paths, func(p struct {
			Target  string
			NodeIDs []string
			Edges   []struct{ Kind string }
		}) bool {
			return p.Target == recipient
		})
		if i < 0 || l.Paths[i].NodeIDs[0] != l.Root || l.Paths[i].NodeIDs[len(l.Paths[i].NodeIDs)-1] != recipient ||
			len(l.Paths[i].Edges) != len(l.Paths[i].NodeIDs)-1 || l.Paths[i].Edges[len(l.Paths[i].Edges)-1].Kind != "SHARED_WITH" {
			t.Fatalf("no path root → AdNet: %+v", l.Paths)
		}

		// From the person, one hop: partial.
		n.query(t, auth.Analyst, q, map[string]any{"depth": 1}, &d)
		if d.Lineage == nil || !d.Lineage.IsPartial {
			t.Fatalf("depth 1 from the person is not partial: %+v", d.Lineage)
		}
		// Upstream of the derived preferences reaches the purchases.
		n.query(t, auth.Analyst, q, map[string]any{"cat": "inference.preferences", "name": "prefs", "dir": "UPSTREAM"}, &d)
		if d.Lineage == nil || !slices.ContainsFunc(d.Lineage.Edges, func(e struct {
			Kind, From, To, Via string
			EventIDs            []string
			FromNode            struct{ ID string }
			ToNode              struct{ ID, Kind string }
		}) bool {
			return e.Kind == "DERIVED_FROM"
		}) {
			t.Fatalf("upstream of prefs has no derived-from edge: %+v", d.Lineage)
		}
		n.fail(t, auth.Analyst, q, map[string]any{"cat": "contact.phone", "name": "phone"}, http.StatusOK, "NOT_FOUND")
		n.fail(t, auth.Analyst, q, map[string]any{"cat": "contact.email"}, http.StatusOK, "BAD_USER_INPUT")
		n.fail(t, auth.Analyst, q, map[string]any{"depth": -1}, http.StatusOK, "BAD_USER_INPUT")

		var log struct {
			AccessLog []struct{ Operation, Purpose string }
		}
		n.query(t, auth.Analyst, `{ accessLog(identifier:"email:jane@example.com", tenant:"inkcartridges") { operation purpose } }`, nil, &log)
		if !slices.Contains(log.AccessLog, struct{ Operation, Purpose string }{"graphql.lineage", "lineage-review"}) {
			t.Fatalf("lineage reads are not on record: %+v", log.AccessLog)
		}
	})

	t.Run("RightToKnow", func(t *testing.T) {
		var d struct {
			RightToKnow *struct {
				Scope        string
				Jurisdiction struct{ Key string }
				Window       struct{ Default bool }
				Categories   []struct{ Letter, Name string }
				SoldOrShared []struct {
					Letter     string
					Recipients []struct{ Key string }
				}
				Recipients     []struct{ Name string }
				SpecificPieces []struct {
					Name, ValueStatus string
					Value             json.RawMessage
				}
				Choices []struct{ Choice, Status struct{ Key string } }
				JSON    json.RawMessage
			}
		}
		n.query(t, auth.Analyst, `{ rightToKnow(identifier:"email:jane@example.com", tenant:"inkcartridges", purpose:"dsar-prep") {
			scope jurisdiction { key } window { default } categories { letter name } soldOrShared { letter recipients { key } }
			recipients { name } specificPieces { name valueStatus value } choices { choice { key } status { key } } json } }`, nil, &d)
		r := d.RightToKnow
		if r == nil || r.Scope != "specific_pieces" || r.Jurisdiction.Key != "ccpa" || !r.Window.Default {
			t.Fatalf("report = %+v", r)
		}
		if !slices.ContainsFunc(r.Categories, func(c struct{ Letter, Name string }) bool { return c.Letter == "A" && c.Name == "Identifiers" }) {
			t.Errorf("categories = %+v", r.Categories)
		}
		if len(r.SoldOrShared) == 0 || len(r.Recipients) != 1 || r.Recipients[0].Name != "AdNet" {
			t.Errorf("sold or shared %+v, recipients %+v", r.SoldOrShared, r.Recipients)
		}
		if len(r.SpecificPieces) == 0 || len(r.Choices) != 1 {
			t.Errorf("pieces %+v, choices %+v", r.SpecificPieces, r.Choices)
		}
		var doc struct{ Schema string }
		if err := json.Unmarshal(r.JSON, &doc); err != nil || !strings.Contains(doc.Schema, "right-to-know") {
			t.Errorf("json copy: %v %s", err, r.JSON)
		}
		n.fail(t, auth.Analyst, `{ rightToKnow(identifier:"email:jane@example.com", tenant:"inkcartridges", from:"2019-01-01T00:00:00Z", purpose:"p") { scope } }`,
			nil, http.StatusOK, "BAD_USER_INPUT")
		var none struct{ RightToKnow *struct{ Scope string } }
		n.query(t, auth.Analyst, `{ rightToKnow(identifier:"email:nobody@example.com", tenant:"inkcartridges", purpose:"p") { scope } }`, nil, &none)
		if none.RightToKnow != nil {
			t.Fatalf("report of no one: %+v", none.RightToKnow)
		}
		var log struct {
			AccessLog []struct{ Operation, Purpose string }
		}
		n.query(t, auth.Analyst, `{ accessLog(identifier:"email:jane@example.com", tenant:"inkcartridges") { operation purpose } }`, nil, &log)
		if !slices.Contains(log.AccessLog, struct{ Operation, Purpose string }{"graphql.rightToKnow", "dsar-prep"}) {
			t.Fatalf("report reads are not on record: %+v", log.AccessLog)
		}
	})

	t.Run("DataMapAndRecipients", func(t *testing.T) {
		type row struct {
			Flow, Category, SourceKind, Purpose, RecipientKind, RecipientRole, Disclosure string
			People                                                                        int
		}
		var d struct {
			DataMap    []row
			Recipients []struct {
				Name, Kind                               string
				Roles, Disclosures, Categories, Purposes []string
				People                                   int
			}
			Recipient *struct {
				Name   string
				People int
			}
			Nobody *struct{ Name string }
		}
		n.query(t, auth.Analyst, `{
			dataMap(tenant:"inkcartridges") { flow category sourceKind purpose recipientKind recipientRole disclosure people }
			recipients(tenant:"inkcartridges") { name kind roles disclosures categories purposes people }
			recipient(name:"AdNet", tenant:"inkcartridges") { name people }
			nobody: recipient(name:"Nobody Inc", tenant:"inkcartridges") { name } }`, nil, &d)
		want := []row{
			{Flow: "COLLECTED", Category: "contact.email", SourceKind: "consumer", Purpose: "order_fulfilment", People: 2},
			{Flow: "COLLECTED", Category: "inference.preferences", SourceKind: "inferred", Purpose: "personalization", People: 1},
			{Flow: "DISCLOSED", Category: "contact.email", Purpose: "targeted_advertising", RecipientKind: "advertising_network",
				RecipientRole: "third_party", Disclosure: "sharing", People: 2},
		}
		for _, w := range want {
			if !slices.Contains(d.DataMap, w) {
				t.Errorf("data map lacks %+v: %+v", w, d.DataMap)
			}
		}
		if len(d.Recipients) != 1 || d.Recipients[0].People != 2 || !slices.Equal(d.Recipients[0].Disclosures, []string{"sharing"}) {
			t.Errorf("recipients = %+v", d.Recipients)
		}
		if d.Recipient == nil || d.Recipient.People != 2 || d.Nobody != nil {
			t.Errorf("recipient AdNet %+v, nobody %+v", d.Recipient, d.Nobody)
		}
		// A window before everything: nothing.
		n.query(t, auth.Analyst, `{ dataMap(tenant:"inkcartridges", to:"2022-01-01T00:00:00Z") { category } recipients(tenant:"inkcartridges", to:"2022-01-01T00:00:00Z") { name } }`, nil, &d)
		if len(d.DataMap) != 0 || len(d.Recipients) != 0 {
			t.Errorf("empty window: %+v %+v", d.DataMap, d.Recipients)
		}
		n.fail(t, auth.Analyst, `{ dataMap(from:"2026-02-01T00:00:00Z", to:"2026-01-01T00:00:00Z") { category } }`, nil, http.StatusOK, "BAD_USER_INPUT")
	})

	t.Run("RejectedEvents", func(t *testing.T) {
		type rejection struct {
			ID, Tenant, Stage, Status, EventType string
			Errors                               []struct{ Path, Reason string }
		}
		var d struct {
			RejectedEvents struct {
				Edges []struct {
					Cursor string
					Node   rejection
				}
				PageInfo struct{ HasNextPage bool }
			}
		}
		n.query(t, auth.Analyst, `{ rejectedEvents(tenant:"inkcartridges", first: 10) { edges { cursor node { id tenant stage status eventType errors { path reason } } } pageInfo { hasNextPage } } }`, nil, &d)
		if len(d.RejectedEvents.Edges) != 1 {
			t.Fatalf("rejected = %+v", d.RejectedEvents)
		}
		rej := d.RejectedEvents.Edges[0].Node
		if rej.Stage != "HTTP" || rej.Status != "REJECTED" || rej.EventType != "data.collected" || len(rej.Errors) == 0 ||
			rej.Errors[0].Path != "data.elements[0].category" {
			t.Fatalf("rejection = %+v", rej)
		}
		var after struct {
			RejectedEvents struct{ Edges []struct{ Cursor string } }
		}
		n.query(t, auth.Analyst, `query($a:String){ rejectedEvents(after:$a) { edges { cursor } } }`, map[string]any{"a": d.RejectedEvents.Edges[0].Cursor}, &after)
		if len(after.RejectedEvents.Edges) != 0 {
			t.Fatalf("page after the only rejection: %+v", after)
		}

		const replay = `mutation($ids:[UUID!]!) { replayRejected(ids:$ids) { replayed stillRejected notFound failed
			results { id outcome verdict error errors { path reason } } } }`
		n.fail(t, auth.Analyst, replay, map[string]any{"ids": []string{rej.ID}}, http.StatusForbidden, "FORBIDDEN")
		var rep struct {
			ReplayRejected struct {
				Replayed, StillRejected, NotFound, Failed int
				Results                                   []struct {
					ID, Outcome string
					Error       *string
					Errors      []struct{ Path string }
				}
			}
		}
		missing := uuid.NewString()
		n.query(t, auth.Admin, replay, map[string]any{"ids": []string{rej.ID, missing}}, &rep)
		r := rep.ReplayRejected
		if r.StillRejected != 1 || r.NotFound != 1 || len(r.Results) != 2 || r.Results[0].Outcome != "STILL_REJECTED" ||
			len(r.Results[0].Errors) == 0 || r.Results[1].Outcome != "NOT_FOUND" || r.Results[1].Error == nil {
			t.Fatalf("replay = %+v", r)
		}
		n.query(t, auth.Analyst, `{ rejectedEvents(status: STILL_REJECTED) { edges { node { id status } } } }`, nil, &d)
		if len(d.RejectedEvents.Edges) != 1 || d.RejectedEvents.Edges[0].Node.ID != rej.ID {
			t.Fatalf("still rejected = %+v", d.RejectedEvents)
		}
		n.fail(t, auth.Admin, replay, map[string]any{"ids": []string{}}, http.StatusOK, "BAD_USER_INPUT")
		n.fail(t, auth.Admin, replay, map[string]any{"ids": []string{"not-a-uuid"}}, http.StatusOK, "BAD_USER_INPUT")
	})

	t.Run("RequestLifecycle", func(t *testing.T) {
		const fields = `id tenant type jurisdiction channel state closed scope sought receivedAt
			identifiers { kind namespace }
			verification { method level actor } extension { respondBy reason } response { outcome basis report { id sha256 } }
			appeal { reason } appealDecision { outcome basis reason } final { outcome }
			history { type actor eventId } status { overdue next { duty by daysLeft } dues { duty by cite done } }
			record { received byAgent verificationLevel outcome denialBasis appealOutcome appealDenialBasis keepUntil }`
		type request struct {
			ID, Tenant, Type, Jurisdiction, Channel, State, Scope string
			Sought                                                *string
			Closed                                                bool
			Identifiers                                           []struct{ Kind, Namespace string }
			Verification                                          *struct{ Method, Level, Actor string }
			Extension                                             *struct{ RespondBy, Reason string }
			Response                                              *struct {
				Outcome string
				Basis   *string
				Report  *struct{ ID, Sha256 string }
			}
			AppealDecision *struct {
				Outcome string
				Basis   *string
			}
			History []struct{ Type, Actor, EventID string }
			Status  struct {
				Next *struct{ Duty, By string }
				Dues []struct{ Duty, By, Cite string }
			}
			Record struct {
				Received          string
				VerificationLevel *string
				Outcome           *string
				AppealOutcome     *string
				KeepUntil         *string
			}
		}
		step := func(mutation string, vars map[string]any) request {
			t.Helper()
			var d map[string]request
			n.query(t, auth.Admin, mutation, vars, &d)
			for _, r := range d {
				return r
			}
			t.Fatalf("no request in %v", d)
			return request{}
		}
		open := `mutation($in: OpenRequestInput!) { openRequest(input:$in) { ` + fields + ` } }`
		r := step(open, map[string]any{"in": map[string]any{"requestId": "dsar-1", "tenant": tenant, "identifiers": []string{"email:jane@example.com"},
			"type": "KNOW", "jurisdiction": "CCPA", "channel": "WEB_FORM", "note": "via the privacy form"}})
		if r.ID != "dsar-1" || r.State != "OPEN" || r.Sought == nil || *r.Sought != "SPECIFIC_PIECES" || r.Scope != "NONE" ||
			len(r.Identifiers) != 1 || r.Identifiers[0].Kind != "email" || r.Status.Next == nil || r.Status.Next.Duty != "CONFIRM" ||
			len(r.History) != 1 || r.History[0].Actor != "test-admin" || r.Record.Outcome != nil {
			t.Fatalf("opened = %+v", r)
		}
		n.fail(t, auth.Admin, open, map[string]any{"in": map[string]any{"requestId": "dsar-1", "tenant": tenant, "identifiers": []string{"email:jane@example.com"},
			"type": "KNOW", "jurisdiction": "CCPA", "channel": "WEB_FORM"}}, http.StatusOK, "BAD_USER_INPUT")
		n.fail(t, auth.Admin, open, map[string]any{"in": map[string]any{"tenant": tenant, "identifiers": []string{"email:"},
			"type": "KNOW", "jurisdiction": "CCPA", "channel": "EMAIL"}}, http.StatusOK, "BAD_USER_INPUT")
		n.fail(t, auth.Admin, open, map[string]any{"in": map[string]any{"tenant": tenant, "identifiers": []string{},
			"type": "KNOW", "jurisdiction": "CCPA", "channel": "EMAIL"}}, http.StatusOK, "BAD_USER_INPUT")

		vars := map[string]any{"id": "dsar-1", "t": tenant}
		r = step(`mutation($id:ID!, $t:String) { confirmRequest(id:$id, tenant:$t) { `+fields+` } }`, vars)
		if r.State != "CONFIRMED" {
			t.Fatalf("confirmed = %+v", r)
		}
		r = step(`mutation($id:ID!, $t:String) { verifyRequest(id:$id, tenant:$t, input:{method:"account_login", level: SPECIFIC_PIECES}) { `+fields+` } }`, vars)
		if r.State != "VERIFIED" || r.Scope != "SPECIFIC_PIECES" || r.Verification == nil || r.Verification.Actor != "test-admin" {
			t.Fatalf("verified = %+v", r)
		}
		extend := `mutation($id:ID!, $t:String) { extendRequest(id:$id, tenant:$t, input:{reason:"records in three systems"}) { ` + fields + ` } }`
		r = step(extend, vars)
		if r.Extension == nil || r.Extension.RespondBy == "" {
			t.Fatalf("extended = %+v", r)
		}
		n.fail(t, auth.Admin, extend, vars, http.StatusOK, "CONFLICT")
		r = step(`mutation($id:ID!, $t:String) { completeRequest(id:$id, tenant:$t, input:{outcome: COMPLIED}) { `+fields+` } }`, vars)
		if r.State != "COMPLETED" || !r.Closed || r.Response == nil || r.Response.Basis != nil || r.Response.Report == nil ||
			len(r.Response.Report.Sha256) != 64 || r.Record.Outcome == nil || *r.Record.Outcome != "COMPLIED" || r.Record.KeepUntil == nil {
			t.Fatalf("completed = %+v", r)
		}
		r = step(`mutation($id:ID!, $t:String) { appealRequest(id:$id, tenant:$t, input:{reason:"the report misses my orders"}) { `+fields+` } }`, vars)
		if r.State != "APPEALED" || r.Closed {
			t.Fatalf("appealed = %+v", r)
		}
		r = step(`mutation($id:ID!, $t:String) { denyRequest(id:$id, tenant:$t, input:{basis: EXEMPTION, reason:"orders are kept for tax law"}) { `+fields+` } }`, vars)
		if r.State != "DENIED" || r.AppealDecision == nil || r.AppealDecision.Basis == nil || *r.AppealDecision.Basis != "EXEMPTION" ||
			r.Record.AppealOutcome == nil || *r.Record.AppealOutcome != "DENIED" || len(r.History) != 7 {
			t.Fatalf("appeal denied = %+v", r)
		}
		n.fail(t, auth.Admin, `mutation { denyRequest(id:"no-such-request", tenant:"inkcartridges", input:{basis: OTHER, reason:"x"}) { id } }`,
			nil, http.StatusOK, "NOT_FOUND")

		var q struct {
			Requests []struct{ ID, State string }
			Request  *struct{ ID string }
			Missing  *struct{ ID string }
			Metrics  []struct {
				Type                                string
				Received, Complied, Denied, Pending int
			}
		}
		n.query(t, auth.Analyst, `query($t:String, $y:Int!) { requests(tenant:$t, state: DENIED) { id state } request(id:"dsar-1", tenant:$t) { id }
			missing: request(id:"nope", tenant:$t) { id } metrics: requestMetrics(tenant:$t, year:$y) { type received complied denied pending } }`,
			map[string]any{"t": tenant, "y": time.Now().UTC().Year()}, &q)
		if len(q.Requests) != 1 || q.Request == nil || q.Missing != nil {
			t.Fatalf("requests = %+v", q)
		}
		know := q.Metrics[slices.IndexFunc(q.Metrics, func(m struct {
			Type                                string
			Received, Complied, Denied, Pending int
		}) bool {
			return m.Type == "KNOW"
		})]
		if know.Received != 1 || know.Denied != 1 {
			t.Fatalf("metrics = %+v", q.Metrics)
		}
		n.fail(t, auth.Analyst, `{ requestMetrics(year: 12) { type } }`, nil, http.StatusOK, "BAD_USER_INPUT")
	})

	t.Run("Metrics", func(t *testing.T) {
		resp, err := http.Get(n.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`custody_graphql_operations_total{operation="subject",outcome="ok"}`,
			`custody_graphql_operations_total{operation="subject",outcome="bad_user_input"}`,
			`custody_graphql_operations_total{operation="openRequest",outcome="ok"}`,
			`custody_graphql_operations_total{operation="(refused)",outcome="forbidden"}`,
			`custody_graphql_operations_total{operation="(refused)",outcome="too_large"}`,
			`custody_graphql_operation_duration_seconds_bucket{operation="lineage",outcome="ok"`,
		} {
			if !strings.Contains(string(b), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	// Last: it breaks storage under the running node.
	t.Run("InternalErrorsDoNotLeak", func(t *testing.T) {
		ctx := context.Background()
		conn, err := embedded.Open(ctx, embedded.Config{DataDir: filepath.Join(n.dataDir, "clickhouse")})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var tables []struct {
			Name string `ch:"name"`
		}
		if err := conn.Select(ctx, &tables, `SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'identity_edges%' AND engine NOT LIKE '%View%'`, nil); err != nil || len(tables) == 0 {
			t.Fatalf("find the identity table: %v %v", tables, err)
		}
		table := tables[0].Name
		if err := conn.Exec(ctx, "RENAME TABLE "+table+" TO "+table+"_away", nil); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := conn.Exec(ctx, "RENAME TABLE "+table+"_away TO "+table, nil); err != nil {
				t.Errorf("restore %s: %v", table, err)
			}
		}()
		r := n.fail(t, auth.Analyst, `{ subject(identifier:"email:jane@example.com", tenant:"inkcartridges", purpose:"p") { personId } }`,
			nil, http.StatusOK, "INTERNAL")
		if !strings.HasPrefix(r.Errors[0].Message, "internal error (ref ") {
			t.Errorf("message %q", r.Errors[0].Message)
		}
		for _, leak := range []string{"SELECT", "identity_edges", "Exception", "clickhouse", "Code:", ".go:"} {
			if strings.Contains(r.raw, leak) {
				t.Errorf("response leaks %q: %s", leak, r.raw)
			}
		}
	})
}

// With one read of personal data at a time and no queue, reads running at
// once beyond the first are refused: OVERLOADED with a Retry-After header,
// counted in /metrics, and not recorded in the access log (nothing was
// read). Four aliased subject reads of one request are fetched in
// parallel (the loader's batch), so all but the first to start find the
// turn taken.
func TestGraphQL_OverloadedReads(t *testing.T) {
	none := 0
	n := startNodeWith(t, false, func(c *config.Config) {
		c.GraphQL.Reads.MaxConcurrent, c.GraphQL.Reads.MaxQueued = 1, &none
	})
	seed(t, n)

	aliases := map[string]string{"a": "email:jane@example.com", "b": "customer_id:C-1009", "c": "device_id:D-1", "d": "email:bob@example.com"}
	q := `query($t: String) {`
	for _, alias := range []string{"a", "b", "c", "d"} {
		q += fmt.Sprintf(" %s: subject(identifier: %q, tenant: $t, purpose: \"load test\") { personId }", alias, aliases[alias])
	}
	q += " }"
	body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"t": tenant}})
	req, _ := http.NewRequest(http.MethodPost, n.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+n.tokens[auth.Analyst])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var r struct {
		Data   map[string]*struct{ PersonID string }
		Errors []gqlError
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	refused := map[string]bool{}
	for _, e := range r.Errors {
		if e.Extensions.Code != "OVERLOADED" || len(e.Path) != 1 || !strings.Contains(e.Message, "too many reads at once") {
			t.Fatalf("unexpected error %+v in %s", e, raw)
		}
		refused[e.Path[0].(string)] = true
	}
	for alias := range aliases {
		if !refused[alias] && (r.Data[alias] == nil || r.Data[alias].PersonID == "") {
			t.Errorf("%s neither refused nor answered: %s", alias, raw)
		}
	}
	if len(refused) == 0 || len(refused) == len(aliases) {
		t.Fatalf("%d of %d concurrent reads refused with one turn and no queue, want all but one: %s", len(refused), len(aliases), raw)
	}
	// Partial data: 200, with when to retry.
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("status %d, Retry-After %q; want 200, 5", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	mresp, err := http.Get(n.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf("custody_reads_refused_total{reason=\"queue_full\"} %d\n", len(refused)),
		fmt.Sprintf("custody_graphql_operations_total{operation=\"subject\",outcome=\"overloaded\"} %d\n", len(refused)),
		"custody_reads_in_flight 0\n",
		"custody_reads_waiting 0\n",
		"custody_read_wait_seconds_count ",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Only the answered reads are in the access log (one request at a
	// time now: each gets the turn).
	count := func(identifier string) int {
		var d struct {
			AccessLog []struct{ Operation string }
		}
		n.query(t, auth.Analyst, `query($id: String!, $t: String) { accessLog(identifier: $id, tenant: $t) { operation } }`,
			map[string]any{"id": identifier, "t": tenant}, &d)
		c := 0
		for _, e := range d.AccessLog {
			if e.Operation == "graphql.subject" {
				c++
			}
		}
		return c
	}
	janeAnswered := 0
	for _, alias := range []string{"a", "b", "c"} {
		if !refused[alias] {
			janeAnswered++
		}
	}
	if got := count("email:jane@example.com"); got != janeAnswered {
		t.Errorf("Jane's access log has %d subject reads, %d were answered", got, janeAnswered)
	}
	if got, want := count("email:bob@example.com"), map[bool]int{true: 0, false: 1}[refused["d"]]; got != want {
		t.Errorf("Bob's access log has %d subject reads, want %d", got, want)
	}
}

func TestGraphQL_DevMode(t *testing.T) {
	n := startNode(t, true)

	// Anonymous requests are an admin, introspection is on, and GraphiQL
	// is served.
	var d struct {
		Schema struct {
			Types []struct{ Name string }
		} `json:"__schema"`
	}
	n.query(t, "", `{ __schema { types { name } } }`, nil, &d)
	if !slices.ContainsFunc(d.Schema.Types, func(ty struct{ Name string }) bool { return ty.Name == "Subject" }) {
		t.Fatalf("introspection in dev mode: %+v", d)
	}
	var m struct{ OpenRequest struct{ State string } }
	n.query(t, "", `mutation { openRequest(input:{identifiers:["email:dev@example.com"], type: OPT_OUT, jurisdiction: CCPA, channel: OPT_OUT_SIGNAL}) { state } }`, nil, &m)
	if m.OpenRequest.State != "OPEN" {
		t.Fatalf("anonymous admin mutation: %+v", m)
	}
	resp, err := http.Get(n.url + "/graphql/play")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(b)), "graphiql") {
		t.Fatalf("GraphiQL: %d", resp.StatusCode)
	}
	// A full introspection, as GraphiQL makes it (type references seven
	// levels deep under field arguments), fits the limits.
	full := `query Introspect { __schema { queryType { name } mutationType { name }
		types { kind name description
			fields(includeDeprecated: true) { name args { name defaultValue type { ...Ref } } type { ...Ref } }
			inputFields { name type { ...Ref } } enumValues(includeDeprecated: true) { name } possibleTypes { name } }
		directives { name locations args { name type { ...Ref } } } } }
	fragment Ref on __Type { kind name ` + strings.Repeat("ofType { kind name ", 7) + strings.Repeat("} ", 7) + "}"
	n.query(t, "", full, nil, nil)
	// Everything else is still bounded in dev mode.
	deep := `{ lineage(identifier:"email:dev@example.com", purpose:"p") { nodes ` +
		strings.Repeat("{ outgoing { toNode ", 5) + "{ id }" + strings.Repeat(" } }", 5) + " } }"
	n.fail(t, "", deep, nil, http.StatusUnprocessableEntity, "TOO_LARGE")
}
