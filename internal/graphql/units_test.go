package graphql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/custodyhq/custody/internal/admission"
	"github.com/custodyhq/custody/internal/graphql/generated"
	"github.com/custodyhq/custody/internal/graphql/model"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/lineage"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/rights"
)

// The pure parts of the handler; the whole API is tested over HTTP against
// the single-node server in server_test.go.

func parse(t *testing.T, q string) *ast.QueryDocument {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	return doc
}

func TestDepth(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  int
	}{
		{`{ a }`, 1},
		{`{ a { b { c } } d }`, 3},
		{`{ a { ... on T { b { c } } } }`, 3},
		{`{ a { ...F } } fragment F on T { b { c { d } } }`, 4},
		{`{ x: a { ...F } y: a { ...F } } fragment F on T { b { ...G } } fragment G on U { c }`, 3},
		{`{ a { b } __schema { types { fields { type { ofType { ofType { name } } } } } } }`, 2},
		// A cycle (refused by validation before the limit runs) ends.
		{`{ a { ...F } } fragment F on T { b { ...F } }`, 2},
	} {
		doc := parse(t, tc.query)
		if got := depth(doc, doc.Operations[0].SelectionSet, map[string]int{}); got != tc.want {
			t.Errorf("depth(%s) = %d, want %d", tc.query, got, tc.want)
		}
	}
}

func TestIntrospects(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{`{ subject { personId } }`, false},
		{`{ __typename }`, false},
		{`{ __schema { types { name } } }`, true},
		{`{ __type(name: "Subject") { name } }`, true},
		{`{ ... on Query { __schema { types { name } } } }`, true},
		{`{ ...F } fragment F on Query { __type(name: "X") { name } }`, true},
		{`{ ...F ...F } fragment F on Query { dataMap { people } }`, false},
	} {
		doc := parse(t, tc.query)
		if got := introspects(doc, doc.Operations[0].SelectionSet, map[string]bool{}); got != tc.want {
			t.Errorf("introspects(%s) = %v, want %v", tc.query, got, tc.want)
		}
	}
}

// overloaded is the error of a read the read side's admission refused.
func overloaded(t *testing.T, maxWait time.Duration) error {
	t.Helper()
	l, err := admission.New(admission.Config{MaxConcurrent: 1, MaxQueued: 0, MaxWait: maxWait}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	release, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = l.Acquire(context.Background())
	if !errors.Is(err, admission.ErrOverloaded) {
		t.Fatalf("second read: %v", err)
	}
	return err
}

func TestClassify(t *testing.T) {
	sql := errors.New("clickhouse: Code: 60. DB::Exception: Unknown table identity_edges_v1 in SELECT …")
	for _, tc := range []struct {
		name string
		err  error
		code Code
		safe bool
	}{
		{"own error", badInput("first", "must be 0..500"), CodeBadUserInput, true},
		{"scalar", &model.InputError{Reason: `"x" is not a UUID`}, CodeBadUserInput, true},
		{"identifier", &identity.Error{Field: "kind", Reason: "unknown"}, CodeBadUserInput, true},
		{"transition", &requests.TransitionError{Op: "extend", RequestID: "r", Reason: "was already extended"}, CodeConflict, true},
		{"request input", &requests.InputError{Op: "deny", Field: "reason", Reason: "is required"}, CodeBadUserInput, true},
		{"no request", fmt.Errorf("request %q: %w", "r", rights.ErrNotFound), CodeNotFound, true},
		{"no person", fmt.Errorf("read: %w", inventory.ErrNotFound), CodeNotFound, true},
		{"no node", fmt.Errorf("lineage from x: %w", lineage.ErrNotFound), CodeNotFound, true},
		{"no rejection", rejected.ErrNotFound, CodeNotFound, true},
		{"too large", fmt.Errorf("%w: more than 10 identifiers", inventory.ErrTooLarge), CodeTooLarge, true},
		{"overloaded", fmt.Errorf("read person: %w", overloaded(t, time.Second)), CodeOverloaded, true},
		{"timeout", fmt.Errorf("read: %w", context.DeadlineExceeded), CodeInternal, true},
		{"storage", fmt.Errorf("resolve person: %w", sql), CodeInternal, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg, safe := classify(tc.err)
			if code != tc.code || safe != tc.safe {
				t.Fatalf("classify = %s %v (%q), want %s %v", code, safe, msg, tc.code, tc.safe)
			}
			if !safe && msg != "" {
				t.Fatalf("unsafe error with a message to show: %q", msg)
			}
		})
	}
}

func TestPresenter(t *testing.T) {
	var logs strings.Builder
	p := presenter{log: slog.New(slog.NewTextHandler(&logs, nil))}
	withCode := func(msg, code string) *gqlerror.Error {
		return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
	}
	for _, tc := range []struct {
		name     string
		err      error
		code     Code
		message  string // prefix
		secret   string // must not be in the message
		loggedIt bool
	}{
		{"storage error", &gqlerror.Error{Message: "SELECT * FROM events", Err: errors.New("SELECT * FROM events failed")},
			CodeInternal, "internal error (ref ", "SELECT", true},
		{"unknown gqlgen error", &gqlerror.Error{Message: "the requested element is null which the schema does not allow"},
			CodeInternal, "internal error (ref ", "schema", true},
		{"parse", withCode("Expected Name, found <EOF>", "GRAPHQL_PARSE_FAILED"), CodeBadUserInput, "Expected Name", "", false},
		{"validation", withCode(`Cannot query field "x" on type "Query".`, "GRAPHQL_VALIDATION_FAILED"), CodeBadUserInput, "Cannot query", "", false},
		{"complexity", withCode("operation has complexity 510, which exceeds the limit of 500", "COMPLEXITY_LIMIT_EXCEEDED"), CodeTooLarge, "operation has complexity", "", false},
		{"own code kept", withCode("mutations need admin", "FORBIDDEN"), CodeForbidden, "mutations need admin", "", false},
		{"introspection", &gqlerror.Error{Message: "introspection disabled"}, CodeForbidden, "introspection is disabled", "", false},
		{"body echo", &gqlerror.Error{Message: `json request body could not be decoded: EOF body:{"query":"email:jane@example.com"`},
			CodeBadUserInput, "the request body is not", "jane@example.com", false},
		{"resolver error", &gqlerror.Error{Message: "x", Err: notFound("no request %q", "r-1")}, CodeNotFound, `no request "r-1"`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			got := p.present(context.Background(), tc.err)
			if got.Extensions["code"] != string(tc.code) || !strings.HasPrefix(got.Message, tc.message) {
				t.Fatalf("presented %q %v, want %s %q…", got.Message, got.Extensions, tc.code, tc.message)
			}
			if tc.secret != "" && strings.Contains(got.Message, tc.secret) {
				t.Fatalf("message %q shows %q", got.Message, tc.secret)
			}
			if logged := logs.Len() > 0; logged != tc.loggedIt {
				t.Fatalf("logged = %v, want %v: %s", logged, tc.loggedIt, logs.String())
			}
			if tc.loggedIt && !strings.Contains(logs.String(), strings.TrimSuffix(strings.TrimPrefix(got.Message, "internal error (ref "), ")")) {
				t.Fatalf("the log line does not carry the reference %q: %s", got.Message, logs.String())
			}
		})
	}
}

// A read refused as overloaded is OVERLOADED, with its own message, and
// the response asks to retry after the longest wait of its refusals.
func TestPresenter_OverloadedAsksToRetry(t *testing.T) {
	p := presenter{log: slog.New(slog.DiscardHandler)}
	st := &requestState{}
	ctx := withState(context.Background(), st)
	for _, wait := range []time.Duration{2 * time.Second, 4500 * time.Millisecond, time.Second} {
		got := p.present(ctx, &gqlerror.Error{Message: "x", Err: overloaded(t, wait)})
		if got.Extensions["code"] != string(CodeOverloaded) || !strings.HasPrefix(got.Message, "too many reads at once: ") {
			t.Fatalf("presented %q %v", got.Message, got.Extensions)
		}
	}
	rec := httptest.NewRecorder()
	w := &statusWriter{ResponseWriter: rec, st: st}
	_, _ = w.Write([]byte("{}"))
	if rec.Code != http.StatusOK || rec.Header().Get("Retry-After") != "5" {
		t.Fatalf("status %d, Retry-After %q; want 200, 5", rec.Code, rec.Header().Get("Retry-After"))
	}
	rec = httptest.NewRecorder()
	(&statusWriter{ResponseWriter: rec, st: &requestState{}}).WriteHeader(http.StatusOK)
	if h := rec.Header().Get("Retry-After"); h != "" {
		t.Fatalf("Retry-After %q without a refused read", h)
	}
}

func TestRecoverDoesNotShowThePanic(t *testing.T) {
	var logs strings.Builder
	p := presenter{log: slog.New(slog.NewTextHandler(&logs, nil))}
	err := p.recover(context.Background(), "index out of range [3] with length 2 at /src/secret.go:12")
	code, msg, _ := classify(err)
	if code != CodeInternal || strings.Contains(msg, "secret.go") || !strings.Contains(logs.String(), "secret.go") {
		t.Fatalf("recover = %s %q; log %s", code, msg, logs.String())
	}
}

func TestLoader_BatchesSharesAndCaches(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	var batches [][]string
	l := newLoader(context.Background(), func(_ context.Context, keys []string) ([]int, []error) {
		calls.Add(1)
		mu.Lock()
		batches = append(batches, append([]string(nil), keys...))
		mu.Unlock()
		vs, errs := make([]int, len(keys)), make([]error, len(keys))
		for i, k := range keys {
			if k == "bad" {
				errs[i] = errors.New("no such key")
				continue
			}
			vs[i] = len(k)
		}
		return vs, errs
	})
	l.wait = 20 * time.Millisecond
	keys := []string{"a", "bb", "ccc", "bb", "bad", "a"}
	got := make([]int, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = l.Load(context.Background(), k)
		}()
	}
	wg.Wait()
	for i, k := range keys {
		if k == "bad" {
			if errs[i] == nil {
				t.Errorf("key bad: no error")
			}
			continue
		}
		if errs[i] != nil || got[i] != len(k) {
			t.Errorf("Load(%q) = %d, %v", k, got[i], errs[i])
		}
	}
	if calls.Load() != 1 || len(batches[0]) != 4 {
		t.Fatalf("fetch called %d times with %v; want once with the 4 distinct keys", calls.Load(), batches)
	}
	if v, err := l.Load(context.Background(), "ccc"); v != 3 || err != nil || calls.Load() != 1 {
		t.Fatalf("cached load: %d %v, %d calls", v, err, calls.Load())
	}
}

func TestLoader_PanicIsAnError(t *testing.T) {
	l := newLoader(context.Background(), func(context.Context, []int) ([]int, []error) { panic("boom") })
	if _, err := l.Load(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	errs := parallel(3, 2, func(i int) error {
		if i == 1 {
			panic("one")
		}
		return nil
	})
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("parallel errs = %v", errs)
	}
}

func TestCursors(t *testing.T) {
	id := uuid.New()
	if got, err := decodeEventCursor(encodeEventCursor(id)); err != nil || got != id {
		t.Fatalf("event cursor round trip: %v %v", got, err)
	}
	c := rejected.Cursor{At: time.Date(2026, 3, 1, 12, 0, 0, 123_000_000, time.UTC), ID: id}
	if got, err := decodeRejectionCursor(encodeRejectionCursor(c)); err != nil || !got.At.Equal(c.At) || got.ID != c.ID {
		t.Fatalf("rejection cursor round trip: %+v %v", got, err)
	}
	for _, bad := range []string{"", "!!", "bm9wZQ", encodeRejectionCursor(c)} {
		if _, err := decodeEventCursor(bad); err == nil {
			t.Errorf("event cursor %q accepted", bad)
		}
	}
	for _, bad := range []string{"", "bm9wZQ", encodeEventCursor(id)} {
		if _, err := decodeRejectionCursor(bad); err == nil {
			t.Errorf("rejection cursor %q accepted", bad)
		}
	}
}

func TestConfig(t *testing.T) {
	if err := (Config{}).WithDefaults().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{ComplexityLimit: -1}, "complexity_limit"},
		{Config{DepthLimit: 1}, "depth_limit"},
		{Config{RequestTimeout: time.Millisecond}, "request_timeout"},
		{Config{MaxBodyBytes: 10}, "max_body_bytes"},
	} {
		err := tc.cfg.WithDefaults().Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: error %v does not name %s", tc.cfg, err, tc.field)
		}
	}
}

func TestNew_RefusesMissingDependencies(t *testing.T) {
	_, err := New(Deps{}, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.Contains(err.Error(), "Inventory") {
		t.Fatalf("err = %v", err)
	}
}

func TestLineagePaths(t *testing.T) {
	// email → AdNet (shared), email → orders-db (stored), phone → orders-db
	// (stored): the path to phone must not run through the shared system.
	nodes := []lineage.Node{
		{ID: "element:t/p/contact.email/email", Kind: lineage.NodeElement},
		{ID: "element:t/p/contact.phone/phone", Kind: lineage.NodeElement},
		{ID: "element:t/p/inference.segment/seg", Kind: lineage.NodeElement},
		{ID: "recipient:t/advertising_network/AdNet", Kind: lineage.NodeRecipient},
		{ID: "system:t/orders-db", Kind: lineage.NodeSystem},
	}
	e := func(k lineage.EdgeKind, from, to string) lineage.Edge {
		return lineage.Edge{Kind: k, From: from, To: to}
	}
	edges := []lineage.Edge{
		e(lineage.EdgeSharedWith, nodes[0].ID, nodes[3].ID),
		e(lineage.EdgeStoredIn, nodes[0].ID, nodes[4].ID),
		e(lineage.EdgeStoredIn, nodes[1].ID, nodes[4].ID),
		e(lineage.EdgeDerivedFrom, nodes[2].ID, nodes[0].ID),
	}
	l := model.NewLineage(lineage.Subgraph{Root: nodes[0].ID, Nodes: nodes, Edges: edges}, "p")
	paths := map[string][]string{}
	for _, p := range l.Paths() {
		if len(p.Edges) != len(p.NodeIDs)-1 {
			t.Fatalf("path %+v: %d edges for %d nodes", p, len(p.Edges), len(p.NodeIDs))
		}
		paths[p.Target] = p.NodeIDs
	}
	want := map[string][]string{
		nodes[2].ID: {nodes[0].ID, nodes[2].ID},
		nodes[3].ID: {nodes[0].ID, nodes[3].ID},
		nodes[4].ID: {nodes[0].ID, nodes[4].ID},
	}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Fatalf("paths = %v, want %v", paths, want)
	}
	for _, n := range l.Nodes() {
		if n.ID == nodes[4].ID && len(n.Incoming()) != 2 {
			t.Fatalf("orders-db incoming = %d, want 2", len(n.Incoming()))
		}
	}
	if got := l.Edges()[0].ToNode(); got.Kind != lineage.NodeRecipient {
		t.Fatalf("edge endpoint = %+v", got)
	}
}

// TestGeneratedSchemaIsTheSDL catches an SDL change that was not followed
// by `go generate ./internal/graphql/...`: the schema compiled into the
// generated code must be the one in schema/graphql. (CI also regenerates
// and diffs, which catches gqlgen.yml and gqlgen version changes too.)
func TestGeneratedSchemaIsTheSDL(t *testing.T) {
	files, err := filepath.Glob("../../schema/graphql/*.graphqls")
	if err != nil || len(files) == 0 {
		t.Fatalf("no SDL files: %v", err)
	}
	var sources []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(b)})
	}
	onDisk, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		t.Fatalf("the SDL does not load: %v", err)
	}
	format := func(s *ast.Schema) string {
		var b strings.Builder
		formatter.NewFormatter(&b, formatter.WithComments()).FormatSchema(s)
		return b.String()
	}
	if format(onDisk) != format(generated.NewExecutableSchema(generated.Config{}).Schema()) {
		t.Fatal("schema/graphql differs from the schema in generated/: run go generate ./internal/graphql/... (make generate)")
	}
}
