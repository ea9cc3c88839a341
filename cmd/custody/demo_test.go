package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/examples/profiles"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/demo"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

const demoEnd = "2026-06-01T00:00:00Z"

// runDemoCmd runs custody demo with args and returns stdout, stderr and the error.
func runDemoCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	t.Setenv("CUSTODY_CONFIG", "")
	cmd := newDemoCmd(&globalFlags{dataDir: t.TempDir()})
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestDemoCmd_RejectsBadFlagsNamingThem(t *testing.T) {
	future := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown profile lists the known ones", []string{"--profile", "ipcon,acme"},
			[]string{`--profile: unknown demo profile "acme": known profiles are inkcartridges, ipc, ipcon, ipmart, iptor, or all`}},
		{"numbers out of range", []string{"--subjects", "0", "--months", "121", "--batch", "20000"},
			[]string{"--subjects 0: must be between 1", "--months 121: must be between 1 and 120", "--batch 20000"}},
		{"end not RFC 3339", []string{"--end", "yesterday"}, []string{`--end "yesterday": want an RFC 3339 time`}},
		{"end in the future", []string{"--end", future}, []string{"is in the future"}},
		{"stray argument", []string{"ipcon"}, []string{"unknown command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runDemoCmd(t, tt.args...)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestDemoCmd_WritesValidDeterministicNDJSON(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--profile", "ipmart,iptor", "--subjects", "3", "--months", "2", "--seed", "7", "--end", demoEnd}
	a, b := filepath.Join(dir, "a.ndjson"), filepath.Join(dir, "b.ndjson")
	if _, stderr, err := runDemoCmd(t, append(args, "--out", a)...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	} else if !strings.Contains(stderr, "curl -sf -X POST") {
		t.Errorf("no curl hint on stderr:\n%s", stderr)
	}
	if _, _, err := runDemoCmd(t, append(args, "--out", b)...); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(a)
	second, _ := os.ReadFile(b)
	if len(first) == 0 || !bytes.Equal(first, second) {
		t.Fatalf("two runs with the same flags differ (%d and %d bytes)", len(first), len(second))
	}

	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	end, _ := time.Parse(time.RFC3339, demoEnd)
	opts := event.Options{Vocabulary: tax, Now: func() time.Time { return end }}
	tenants := map[string]int{}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(first))
	sc.Buffer(nil, event.MaxEventBytes)
	for sc.Scan() {
		lines++
		ev, errs := event.Decode(sc.Bytes(), opts)
		if len(errs) > 0 {
			t.Fatalf("line %d is not a valid event: %v", lines, errs)
		}
		tenants[ev.Tenant]++
	}
	ps, _ := demo.LoadAll(profiles.FS(), tax)
	ps, _ = demo.Select(ps, []string{"ipmart", "iptor"})
	want, _ := demo.Count(context.Background(), ps, demo.Config{Subjects: 3, Months: 2, Seed: 7, End: end})
	if int64(lines) != want || len(tenants) != 2 || tenants["ipmart"] == 0 || tenants["iptor"] == 0 {
		t.Errorf("%d lines by tenant %v, want %d events of ipmart and iptor", lines, tenants, want)
	}
}

// fakeCustody answers /healthz and POST /v1/events like Custody does:
// duplicates by id, and optionally one rejected event per batch.
type fakeCustody struct {
	mu        sync.Mutex
	seen      map[string]bool
	tokens    map[string]int
	rejectOne bool
}

func (f *fakeCustody) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		fmt.Fprintln(w, "ok")
		return
	case "/v1/events":
	default:
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[r.Header.Get("Authorization")]++
	type result struct {
		Index  int                `json:"index"`
		ID     string             `json:"id"`
		Status string             `json:"status"`
		Errors []event.FieldError `json:"errors,omitempty"`
	}
	var resp struct {
		Accepted   int      `json:"accepted"`
		Duplicates int      `json:"duplicates"`
		Rejected   int      `json:"rejected"`
		Results    []result `json:"results"`
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, event.MaxEventBytes)
	for i := 0; sc.Scan(); i++ {
		var e struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch {
		case f.rejectOne && i == 0:
			resp.Rejected++
			resp.Results = append(resp.Results, result{i, e.ID, "rejected", []event.FieldError{{Path: "data", Reason: "refused by the test"}}})
		case f.seen[e.ID]:
			resp.Duplicates++
			resp.Results = append(resp.Results, result{i, e.ID, "duplicate", nil})
		default:
			f.seen[e.ID] = true
			resp.Accepted++
			resp.Results = append(resp.Results, result{i, e.ID, "accepted", nil})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if resp.Rejected > 0 {
		w.WriteHeader(http.StatusMultiStatus)
	}
	_ = json.NewEncoder(w).Encode(resp)
}

func TestDemoCmd_SendsThroughTheSDKAndSummarises(t *testing.T) {
	fake := &fakeCustody{seen: map[string]bool{}, tokens: map[string]int{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("CUSTODY_TOKEN", "test-token")
	args := []string{"--url", srv.URL, "--profile", "ipcon", "--subjects", "4", "--months", "3", "--batch", "100"}

	stdout, stderr, err := runDemoCmd(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	n := len(fake.seen)
	if n == 0 || !strings.Contains(stdout, fmt.Sprintf("accepted %d, duplicates 0, rejected 0", n)) {
		t.Errorf("first load: %d events received, summary:\n%s", n, stdout)
	}
	for _, w := range []string{"Showcase people", "ipcon", "@example.", "Try", "custody_(ingest|pipeline)_events_total", "custody datamap --tenant $t", "custody subject --tenant ipcon --identifier email:", "custody lineage --tenant ipcon"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
	if fake.tokens["Bearer test-token"] == 0 || len(fake.tokens) != 1 {
		t.Errorf("authorization headers seen: %v", fake.tokens)
	}

	// Later, with a different end: the same ids, so every event is a duplicate.
	stdout, _, err = runDemoCmd(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, fmt.Sprintf("accepted 0, duplicates %d, rejected 0", n)) || len(fake.seen) != n {
		t.Errorf("second load of the same data set: %d ids now, summary:\n%s", len(fake.seen), stdout)
	}

	fake.rejectOne = true
	stdout, stderr, err = runDemoCmd(t, append(args, "--seed", "2")...)
	if err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Errorf("rejections must fail the command, err = %v", err)
	}
	if !strings.Contains(stderr, "refused by the test") || strings.Contains(stdout, "Try") {
		t.Errorf("rejection reasons not shown, or queries printed after failure:\n%s\n%s", stderr, stdout)
	}
}

func TestDemoCmd_UnreachableServerSaysWhatToDo(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	_, _, err := runDemoCmd(t, "--url", url, "--subjects", "1", "--months", "1")
	if err == nil || !strings.Contains(err.Error(), "make run") || !strings.Contains(err.Error(), "--out") {
		t.Errorf("err = %v", err)
	}
}

func TestBaseURL(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		":8080":          "http://127.0.0.1:8080",
		"0.0.0.0:9000":   "http://127.0.0.1:9000",
		"[::]:8080":      "http://127.0.0.1:8080",
		"custody:8080":   "http://custody:8080",
	}
	for in, want := range tests {
		if got := baseURL(in); got != want {
			t.Errorf("baseURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDemoCmd_LoadsIntoARealServer is make demo against make run: every
// profile through the real ingest path, then the log holds every event.
func TestDemoCmd_LoadsIntoARealServer(t *testing.T) {
	chtest.RequireLibrary(t)
	if testing.Short() {
		t.Skip("starts a server")
	}
	bin := buildBinary(t)
	dataDir := t.TempDir()
	s := start(t, bin, dataDir, "--dev")
	args := []string{"--url", s.addr, "--subjects", "10", "--months", "12", "--end", demoEnd}
	stdout, stderr, err := runDemoCmd(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout, stderr)
	}
	var generated string
	if _, err := fmt.Sscanf(strings.TrimSpace(stdout), "generated %s", &generated); err != nil {
		t.Fatalf("no summary: %q", stdout)
	}
	if !strings.Contains(stdout, fmt.Sprintf("accepted %s, duplicates 0, rejected 0", generated)) {
		t.Fatalf("not everything was accepted:\n%s\n%s", stdout, stderr)
	}
	// Wait until the pipeline has stored them all.
	stored := strings.ReplaceAll(generated, ",", "")
	waitMetric(t, s.addr, `custody_pipeline_events_total{outcome="stored"} `+stored)
	// The GraphQL queries the demo printed answer with the profile's data.
	// Every profile's data map; then the first profile's (inkcartridges)
	// showcase person.
	wants := []string{`"ipcon":[{"flow"`, "Data brokers", "Data brokers"}
	var asked int
	for _, line := range strings.Split(stdout, "\n") {
		_, body, ok := strings.Cut(line, "-d '")
		if !ok || !strings.Contains(line, "/graphql") {
			continue
		}
		body = strings.TrimSuffix(strings.TrimSpace(body), "'")
		resp, err := http.Post(s.addr+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `"errors"`) || !strings.Contains(string(b), wants[asked]) {
			t.Errorf("printed query %d: %d %.600s; want %q in it", asked+1, resp.StatusCode, b, wants[asked])
		}
		if asked == 0 {
			for _, tenant := range []string{"inkcartridges", "ipc", "ipcon", "ipmart", "iptor"} {
				if !strings.Contains(string(b), `"`+tenant+`":[{"flow"`) {
					t.Errorf("the data map query has no rows for %s", tenant)
				}
			}
			if !strings.Contains(string(b), `"disclosure":"sale"`) {
				t.Errorf("no data map shows a sale")
			}
		}
		asked++
	}
	if asked != len(wants) {
		t.Fatalf("the demo printed %d GraphQL queries, want %d:\n%s", asked, len(wants), stdout)
	}
	// Loading again sends the same ids: accepted (ingest does not ask the
	// log), dropped by the pipeline, stored once.
	stdout, _, err = runDemoCmd(t, args...)
	if err != nil || !strings.Contains(stdout, fmt.Sprintf("accepted %s, duplicates 0,", generated)) {
		t.Fatalf("second load: %v\n%s", err, stdout)
	}
	waitMetric(t, s.addr, `custody_pipeline_events_total{outcome="duplicate"} `+stored)
	// The log holds every event once, and the printed queries answer.
	s.stop(t)
	tax, _ := taxonomy.Load(schema.Taxonomy())
	ps, _ := demo.LoadAll(profiles.FS(), tax)
	ps, _ = demo.Select(ps, []string{"ipcon"})
	end, _ := time.Parse(time.RFC3339, demoEnd)
	want, _ := demo.Count(context.Background(), ps, demo.Config{Subjects: 10, Months: 12, Seed: 1, End: end})
	out, err := exec.Command(bin, "log", "count", "--tenant", "ipcon", "--data-dir", dataDir).Output()
	if err != nil || strings.TrimSpace(string(out)) != fmt.Sprint(want) {
		t.Fatalf("custody log count --tenant ipcon = %q (%v), want %d", out, err, want)
	}
	email, _ := demo.ShowcaseEmail(ps[0], demo.Config{Subjects: 10, Months: 12, Seed: 1, End: end})
	for _, q := range []struct {
		args []string
		want string
	}{
		{[]string{"datamap", "--tenant", "ipcon"}, "advertising_network  third_party       sale"},
		{[]string{"subject", "--tenant", "ipcon", "--identifier", "email:" + email, "--purpose", "demo"}, "Trustpilot A/S"},
		{[]string{"lineage", "--tenant", "ipcon", "--identifier", "email:" + email, "--element", "contact.email/email", "--purpose", "demo"}, "Trustpilot A/S"},
	} {
		out, err := exec.Command(bin, append(q.args, "--data-dir", dataDir)...).Output()
		if err != nil || !strings.Contains(string(out), q.want) {
			t.Errorf("custody %s: %v; want %q in\n%.2000s", strings.Join(q.args, " "), err, q.want, out)
		}
	}
}
