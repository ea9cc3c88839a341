package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustSecret(t *testing.T) string {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRequire_RolesAndTokens(t *testing.T) {
	pub, ana, adm := mustSecret(t), mustSecret(t), mustSecret(t)
	a, err := New([]Token{
		{Name: "checkout", Role: Publisher, SHA256: Hash(pub)},
		{Name: "privacy-team", Role: Analyst, SHA256: Hash(ana)},
		{Name: "ops", Role: Admin, SHA256: Hash(adm)},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	var seen Principal
	ingest := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = PrincipalFrom(r.Context())
	}), Publisher)
	for _, tc := range []struct {
		name, header string
		code         int
		who          string
	}{
		{"no token", "", http.StatusUnauthorized, ""},
		{"unknown token", "Bearer " + mustSecret(t), http.StatusUnauthorized, ""},
		{"not bearer", "Basic " + pub, http.StatusUnauthorized, ""},
		{"publisher", "Bearer " + pub, http.StatusOK, "checkout"},
		{"scheme case", "bearer " + pub, http.StatusOK, "checkout"},
		{"analyst may not ingest", "Bearer " + ana, http.StatusForbidden, ""},
		{"admin may", "Bearer " + adm, http.StatusOK, "ops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen = Principal{}
			r := httptest.NewRequest(http.MethodPost, "/v1/events", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			w := httptest.NewRecorder()
			ingest.ServeHTTP(w, r)
			if w.Code != tc.code || seen.Name != tc.who {
				t.Fatalf("code %d principal %q, want %d %q (body %s)", w.Code, seen.Name, tc.code, tc.who, w.Body)
			}
			if tc.code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if strings.Contains(w.Body.String(), pub) || strings.Contains(w.Body.String(), adm) {
				t.Fatal("a response echoes a token")
			}
		})
	}
}

func TestNew_RefusesNoTokensOutsideDevModeAndBadTokens(t *testing.T) {
	if _, err := New(nil, false); err == nil {
		t.Fatal("no tokens and no dev mode accepted")
	}
	a, err := New(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
	if err != nil || p.Role != Admin {
		t.Fatalf("dev anonymous: %+v %v", p, err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer wrong")
	if _, err := a.Authenticate(r); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a wrong token passes in dev mode: %v", err)
	}
	for _, bad := range []Token{
		{Role: Publisher, SHA256: Hash("x")},
		{Name: "a", Role: "root", SHA256: Hash("x")},
		{Name: "a", Role: Publisher, SHA256: "abc"},
	} {
		if _, err := New([]Token{bad}, false); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if _, err := New([]Token{{Name: "a", Role: Admin, SHA256: Hash("x")}, {Name: "a", Role: Admin, SHA256: Hash("y")}}, false); err == nil {
		t.Error("duplicate names accepted")
	}
}

func TestBootstrap_CreatesPrivateTokensOnceAndReusesThem(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	first, paths, err := Bootstrap(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].Role != Admin || first[1].Role != Publisher {
		t.Fatalf("tokens %+v", first)
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", p, fi.Mode(), err)
		}
	}
	again, _, err := Bootstrap(dir)
	if err != nil || again[0].SHA256 != first[0].SHA256 || again[1].SHA256 != first[1].SHA256 {
		t.Fatalf("second bootstrap changed the tokens: %v", err)
	}
	secret, _ := os.ReadFile(paths[1])
	a, _ := New(again, false)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(secret)))
	if p, err := a.Authenticate(r); err != nil || p.Role != Publisher {
		t.Fatalf("generated publisher token: %+v %v", p, err)
	}
	if err := os.Chmod(paths[0], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Bootstrap(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable token file was accepted: %v", err)
	}
}

// RequireWith hands each refusal, with its status and message, to the
// writer the API chose; Require keeps its {"error": …} body.
func TestRequireWith_WritesRefusalsItsWay(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	a, err := New([]Token{{Name: "pub", Role: Publisher, SHA256: Hash(secret)}}, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []Refusal
	h := a.RequireWith(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Fatal("reached the handler") }),
		func(w http.ResponseWriter, _ *http.Request, ref Refusal) {
			got = append(got, ref)
			w.WriteHeader(ref.Status)
		}, Analyst)
	for _, token := range []string{"", secret} {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if token == "" && rec.Header().Get("WWW-Authenticate") == "" {
			t.Fatal("401 without WWW-Authenticate")
		}
	}
	if len(got) != 2 || got[0].Status != http.StatusUnauthorized || got[1].Status != http.StatusForbidden ||
		!strings.Contains(got[1].Message, `token "pub" has role publisher`) {
		t.Fatalf("refusals = %+v", got)
	}
}
