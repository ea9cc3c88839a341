package graphql_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custodyhq/custody/internal/auth"
)

// Over the real server: refusals of /graphql carry extensions.code, and a
// request id no request can have is BAD_USER_INPUT naming the request id
// wherever it is an argument (it was an identity error, or "not found").
func TestGraphQL_RefusalCodesAndMalformedRequestIDs(t *testing.T) {
	n := startNode(t, false)

	for _, tc := range []struct {
		name, token string
		status      int
		code        string
	}{
		{"missing token", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"unknown token", "cst_not-a-token", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"publisher", n.tokens[auth.Publisher], http.StatusForbidden, "FORBIDDEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, r := n.post(t, tc.token, `{ requests { id } }`, nil)
			if status != tc.status || len(r.Errors) != 1 || r.Errors[0].Extensions.Code != tc.code {
				t.Fatalf("POST: %d %s; want %d with extensions.code %s", status, r.raw, tc.status, tc.code)
			}
			req, _ := http.NewRequest(http.MethodGet, n.url+"/graphql?query="+url.QueryEscape(`{ requests { id } }`), nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if status, r := do(t, req); status != tc.status || len(r.Errors) != 1 || r.Errors[0].Extensions.Code != tc.code {
				t.Fatalf("GET: %d %s; want %d with extensions.code %s", status, r.raw, tc.status, tc.code)
			}
		})
	}

	ids := map[string]string{"CR LF": "dsar\r\n1", "NUL": "dsar\x001", "10,000 characters": strings.Repeat("r", 10_000), "65 characters": strings.Repeat("r", 65)}
	ops := map[string]string{
		"request":         `query($id: ID!) { request(id: $id) { id } }`,
		"confirmRequest":  `mutation($id: ID!) { confirmRequest(id: $id) { id } }`,
		"verifyRequest":   `mutation($id: ID!) { verifyRequest(id: $id, input: {method: "account_login", level: SPECIFIC_PIECES}) { id } }`,
		"extendRequest":   `mutation($id: ID!) { extendRequest(id: $id, input: {reason: "complex"}) { id } }`,
		"completeRequest": `mutation($id: ID!) { completeRequest(id: $id, input: {outcome: COMPLIED}) { id } }`,
		"denyRequest":     `mutation($id: ID!) { denyRequest(id: $id, input: {basis: OTHER, reason: "x"}) { id } }`,
		"appealRequest":   `mutation($id: ID!) { appealRequest(id: $id, input: {reason: "x"}) { id } }`,
		"openRequest": `mutation($id: ID) { openRequest(input: {requestId: $id, identifiers: ["email:jane@example.com"],
			type: KNOW, jurisdiction: CCPA, channel: WEB_FORM}) { id } }`,
	}
	for op, q := range ops {
		for name, id := range ids {
			t.Run(op+" "+name, func(t *testing.T) {
				_, r := n.post(t, n.tokens[auth.Admin], q, map[string]any{"id": id})
				if len(r.Errors) != 1 || r.Errors[0].Extensions.Code != "BAD_USER_INPUT" || !strings.HasPrefix(r.Errors[0].Message, "request id: must be 1–64") {
					t.Fatalf("%.300s; want BAD_USER_INPUT naming the request id", r.raw)
				}
				if strings.Contains(r.raw, "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr") {
					t.Fatal("the answer echoes the id")
				}
			})
		}
	}
	// A well-formed id nobody used is still not found.
	if _, r := n.post(t, n.tokens[auth.Admin], ops["request"], map[string]any{"id": "dsar-404"}); len(r.Errors) != 0 || string(r.Data) != `{"request":null}` {
		t.Fatalf("unknown request: %s", r.raw)
	}
	if _, r := n.post(t, n.tokens[auth.Admin], ops["confirmRequest"], map[string]any{"id": "dsar-404"}); len(r.Errors) != 1 || r.Errors[0].Extensions.Code != "NOT_FOUND" {
		t.Fatalf("confirm of an unknown request: %s", r.raw)
	}
}
