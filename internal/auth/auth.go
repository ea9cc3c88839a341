package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Role is what a token may do.
type Role string

const (
	// Publisher may only send events.
	Publisher Role = "publisher"
	// Analyst may read records, reports, lineage and the data map.
	Analyst Role = "analyst"
	// Admin may do everything, including acting on rights requests.
	Admin Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Publisher || r == Analyst || r == Admin }

// Token is a configured token: its name (for logs and the access log), its
// role and the hex SHA-256 of the secret. The secret itself is never kept.
type Token struct {
	Name   string `yaml:"name"`
	Role   Role   `yaml:"role"`
	SHA256 string `yaml:"sha256"`
}

// Validate names the first invalid field of t.
func (t Token) Validate() error {
	switch {
	case t.Name == "":
		return errors.New("auth token: name is required")
	case !t.Role.Valid():
		return fmt.Errorf("auth token %s: role must be publisher, analyst or admin, got %q", t.Name, t.Role)
	}
	if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != sha256.Size {
		return fmt.Errorf("auth token %s: sha256 must be 64 hex characters (`custody token new` prints one)", t.Name)
	}
	return nil
}

// prefix marks Custody tokens so secret scanners can find leaked ones.
const prefix = "cst_"

// NewSecret returns a fresh random token secret.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Hash returns the hex SHA-256 of a token secret, as configured.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Principal is who made a request.
type Principal struct {
	Name string
	Role Role
}

// Authenticator checks bearer tokens.
type Authenticator struct {
	tokens []Token
	hashes [][]byte
	// anonymous, when set, is the principal of requests without a token
	// (dev mode only).
	anonymous *Principal
}

// New returns an Authenticator for tokens. devAnonymous lets requests
// without a token through as an admin named "anonymous (dev mode)".
func New(tokens []Token, devAnonymous bool) (*Authenticator, error) {
	a := &Authenticator{}
	seen := map[string]bool{}
	for _, t := range tokens {
		if err := t.Validate(); err != nil {
			return nil, err
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("auth token %s: name used twice", t.Name)
		}
		seen[t.Name] = true
		h, _ := hex.DecodeString(t.SHA256)
		a.tokens = append(a.tokens, t)
		a.hashes = append(a.hashes, h)
	}
	if devAnonymous {
		a.anonymous = &Principal{Name: "anonymous (dev mode)", Role: Admin}
	}
	if len(a.tokens) == 0 && a.anonymous == nil {
		return nil, errors.New("auth: no tokens configured and dev mode is off: nobody could call the API")
	}
	return a, nil
}

// ErrUnauthenticated means no valid token was presented.
var ErrUnauthenticated = errors.New("auth: missing or unknown bearer token")

// Authenticate returns the principal of a request's bearer token.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" && a.anonymous != nil {
		return *a.anonymous, nil
	}
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return Principal{}, ErrUnauthenticated
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	found := -1
	for i, want := range a.hashes { // compare all, in constant time each
		if subtle.ConstantTimeCompare(sum[:], want) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{Name: a.tokens[found].Name, Role: a.tokens[found].Role}, nil
}

type principalKey struct{}

// PrincipalFrom returns the principal Require put in the request context.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Require wraps next so only principals with one of roles (or Admin) reach
// it: 401 with WWW-Authenticate without a valid token, 403 with a token of
// another role. The refusal's body is {"error": "<what to do>"}.
func (a *Authenticator) Require(next http.Handler, roles ...Role) http.Handler {
	return a.RequireWith(next, writeRefusal, roles...)
}

// Refusal is why Require turned a request away.
type Refusal struct {
	// Status is http.StatusUnauthorized (no valid token) or
	// http.StatusForbidden (a token of another role).
	Status int
	// Message says what is wrong and what to do; it never holds a secret.
	Message string
}

// RefusalWriter writes the answer to a refused request, with ref.Status
// as its status. A 401 already has its WWW-Authenticate header.
type RefusalWriter func(w http.ResponseWriter, r *http.Request, ref Refusal)

// RequireWith is Require with the refusals written by write, for an API
// whose errors have another shape (GraphQL's errors[].extensions.code).
func (a *Authenticator) RequireWith(next http.Handler, write RefusalWriter, roles ...Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="custody"`)
			write(w, r, Refusal{Status: http.StatusUnauthorized, Message: "send Authorization: Bearer <token>; the token is missing or unknown"})
			return
		}
		allowed := p.Role == Admin
		for _, role := range roles {
			allowed = allowed || p.Role == role
		}
		if !allowed {
			write(w, r, Refusal{Status: http.StatusForbidden, Message: fmt.Sprintf("token %q has role %s; this needs %s", p.Name, p.Role, joinRoles(roles))})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func joinRoles(roles []Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(append(s, "admin"), " or ")
}

func writeRefusal(w http.ResponseWriter, _ *http.Request, ref Refusal) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ref.Status)
	fmt.Fprintf(w, "{\"error\":%q}\n", ref.Message)
}

// Bootstrap returns the tokens to use when none are configured: it reads
// or creates one admin and one publisher token in dir (files admin.token
// and publisher.token, mode 0600, directory 0700) and returns their hashes
// and the paths, so the caller can say where they are. Existing files are
// reused, never overwritten.
func Bootstrap(dir string) ([]Token, []string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create token directory: %w", err)
	}
	var tokens []Token
	var paths []string
	for _, role := range []Role{Admin, Publisher} {
		path := filepath.Join(dir, string(role)+".token")
		secret, err := readOrCreate(path)
		if err != nil {
			return nil, nil, err
		}
		tokens = append(tokens, Token{Name: "generated-" + string(role), Role: role, SHA256: Hash(secret)})
		paths = append(paths, path)
	}
	return tokens, paths, nil
}

func readOrCreate(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("%s is readable by others; chmod 600 %s", path, path)
		}
		secret := strings.TrimSpace(string(b))
		if !strings.HasPrefix(secret, prefix) {
			return "", fmt.Errorf("%s does not hold a Custody token", path)
		}
		return secret, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return secret, f.Close()
}
