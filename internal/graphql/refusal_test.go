package graphql

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodyhq/custody/internal/auth"
)

// The HTTP layer's refusals of /graphql are GraphQL error responses with
// extensions.code, keeping their status (they were {"error": …} without a
// code, though README lists UNAUTHENTICATED and FORBIDDEN).
func TestProtect_RefusalsAreGraphQLErrorsWithCodes(t *testing.T) {
	tokens := map[auth.Role]string{}
	var conf []auth.Token
	for _, role := range []auth.Role{auth.Publisher, auth.Analyst, auth.Admin} {
		secret, err := auth.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = secret
		conf = append(conf, auth.Token{Name: "t-" + string(role), Role: role, SHA256: auth.Hash(secret)})
	}
	authn, err := auth.New(conf, false)
	if err != nil {
		t.Fatal(err)
	}
	h := protect(authn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.PrincipalFrom(r.Context())
		_, _ = w.Write([]byte(`{"data":{"who":"` + p.Name + `"}}`))
	}))
	for _, tc := range []struct {
		name, header string
		status       int
		code, msg    string
	}{
		{"missing token", "", http.StatusUnauthorized, "UNAUTHENTICATED", "Bearer <token>"},
		{"unknown token", "Bearer cst_not-a-token", http.StatusUnauthorized, "UNAUTHENTICATED", "missing or unknown"},
		{"not a bearer token", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, "UNAUTHENTICATED", "missing or unknown"},
		{"publisher", "Bearer " + tokens[auth.Publisher], http.StatusForbidden, "FORBIDDEN", "has role publisher; this needs analyst or admin"},
		{"analyst", "Bearer " + tokens[auth.Analyst], http.StatusOK, "", `"who":"t-analyst"`},
		{"admin", "Bearer " + tokens[auth.Admin], http.StatusOK, "", `"who":"t-admin"`},
	} {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(tc.name+" "+method, func(t *testing.T) {
				req := httptest.NewRequest(method, Path+"?query=%7B__typename%7D", strings.NewReader(`{"query":"{ __typename }"}`))
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.msg) {
					t.Fatalf("%d %s; want %d containing %q", rec.Code, rec.Body, tc.status, tc.msg)
				}
				if tc.code == "" {
					return
				}
				var resp struct {
					Data   *json.RawMessage `json:"data"`
					Errors []struct {
						Message    string         `json:"message"`
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
					t.Fatalf("body %q is not JSON: %v", rec.Body, err)
				}
				if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != tc.code || resp.Data != nil {
					t.Fatalf("body %s; want one error with extensions.code %s and no data", rec.Body, tc.code)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type %q", ct)
				}
				if got := rec.Header().Get("WWW-Authenticate"); (tc.status == http.StatusUnauthorized) != (got != "") {
					t.Fatalf("WWW-Authenticate %q with status %d", got, tc.status)
				}
			})
		}
	}
}
