package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
)

// buildBinary compiles cmd/custody once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "custody")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a running `custody serve` process.
type process struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

// start runs `custody serve` on dataDir and waits for its "custody ready"
// log line, which carries the bound address.
func start(t *testing.T, bin, dataDir string, extra ...string) *process {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dataDir, "--addr", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CUSTODY_LOG_FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &process{cmd: cmd, logs: &bytes.Buffer{}}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "custody ready" {
				ready <- rec.Addr
			}
		}
		close(ready)
	}()
	select {
	case addr, ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("server exited before ready:\n%s", s.logs)
		}
		s.addr = "http://" + addr
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("server not ready after 60s:\n%s", s.logs)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	return s
}

// stop sends SIGTERM and expects a clean exit.
func (s *process) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server exited with %v after SIGTERM:\n%s", err, s.logs)
		}
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Fatalf("server did not stop within 60s of SIGTERM:\n%s", s.logs)
	}
	if !strings.Contains(s.logs.String(), "storage closed") {
		t.Fatalf("shutdown did not close storage:\n%s", s.logs)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type ingestResponse struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Rejected   int `json:"rejected"`
	Results    []struct {
		Index  int    `json:"index"`
		ID     string `json:"id"`
		Status string `json:"status"`
		Errors []struct {
			Path   string `json:"path"`
			Reason string `json:"reason"`
		} `json:"errors"`
	} `json:"results"`
}

func post(t *testing.T, url, contentType, body string) (int, ingestResponse) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r ingestResponse
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response %d is not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, r
}

// waitMetric waits up to a minute for a line of /metrics.
func waitMetric(t *testing.T, addr, line string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, body := get(t, addr+"/metrics"); strings.Contains(body, line+"\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no %q within a minute", line)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func collected(id uuid.UUID, email string) string {
	return fmt.Sprintf(`{"id":%q,"type":"data.collected","source":"checkout-service","time":"2026-03-01T12:00:00Z",
"tenant":"inkcartridges","subject":{"identifiers":[{"kind":"email","value":%q}]},
"data":{"elements":[{"name":"email","category":"contact.email","value":%q}],"origin":{"kind":"consumer","name":"checkout"},
"purposes":["order_fulfilment"],"system":"orders-db"}}`, id, email, email)
}

func TestServe_HealthIngestAndRestartKeepData(t *testing.T) {
	chtest.RequireLibrary(t)
	bin := buildBinary(t)
	dataDir := t.TempDir()

	s := start(t, bin, dataDir, "--dev")
	if code, body := get(t, s.addr+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	if code, _ := get(t, s.addr+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	var lines []string
	for i := 0; i < 10; i++ {
		lines = append(lines, strings.ReplaceAll(collected(uuid.New(), fmt.Sprintf("jane%d@example.com", i)), "\n", ""))
	}
	badID := uuid.NewString()
	bad := `{"id":"` + badID + `","type":"data.collected","source":"s","time":"2026-03-01T12:00:00Z","subject":{"identifiers":[{"kind":"email","value":"x@example.com"}]},"data":{"elements":[{"name":"e","category":"contact.emial"}],"origin":{"kind":"consumer"},"purposes":["order_fulfilment"],"system":"crm"}}`
	batch := strings.Join(append(lines, bad), "\n")
	code, r := post(t, s.addr+"/v1/events", "application/x-ndjson", batch)
	if code != http.StatusMultiStatus || r.Accepted != 10 || r.Rejected != 1 {
		t.Fatalf("first batch: %d %+v", code, r)
	}
	rej := r.Results[10]
	if len(rej.Errors) == 0 || rej.Errors[0].Path != "data.elements[0].category" || !strings.Contains(rej.Errors[0].Reason, "contact.email") {
		t.Fatalf("rejected event's error does not name the field and suggest the term: %+v", rej)
	}
	if code, body := get(t, s.addr+"/metrics"); code != 200 || !strings.Contains(body, `custody_ingest_events_total{verdict="accepted"} 10`) {
		t.Fatalf("/metrics = %d, missing ingest counter", code)
	}
	s.stop(t)

	// After a restart the events are still there, and the same batch sent
	// again is accepted (ingest does not ask the log) and stored once: the
	// pipeline drops the ten it already holds.
	s = start(t, bin, dataDir, "--dev")
	code, r = post(t, s.addr+"/v1/events", "application/x-ndjson", strings.Join(lines, "\n"))
	if code != http.StatusOK || r.Accepted != 10 || r.Duplicates != 0 {
		t.Fatalf("after restart: %d %+v", code, r)
	}
	waitMetric(t, s.addr, `custody_pipeline_events_total{outcome="duplicate"} 10`)
	s.stop(t)

	out, err := exec.Command(bin, "log", "count", "--data-dir", dataDir).Output()
	if err != nil {
		t.Fatalf("custody log count: %v", err)
	}
	if strings.TrimSpace(string(out)) != "10" {
		t.Fatalf("log count = %q, want 10", out)
	}
	// The rejected event was kept for inspection and replay.
	out, err = exec.Command(bin, "rejected", "list", "--data-dir", dataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), badID) {
		t.Fatalf("custody rejected list does not show %s: %v\n%s", badID, err, out)
	}
}

func TestServe_IngestNeedsAPublisherTokenOutsideDevMode(t *testing.T) {
	chtest.RequireLibrary(t)
	dir := t.TempDir()
	s := start(t, buildBinary(t), dir)
	send := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, s.addr+"/v1/events", strings.NewReader(collected(uuid.New(), "a@example.com")))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(""); code != http.StatusUnauthorized {
		t.Fatalf("no token = %d, want 401", code)
	}
	if code := send("cst_not-a-real-token"); code != http.StatusUnauthorized {
		t.Fatalf("wrong token = %d, want 401", code)
	}
	// No tokens configured: an admin and a publisher token were generated
	// into the data dir (0600), and the log says where, not what.
	path := filepath.Join(dir, "tokens", "publisher.token")
	secret, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("generated publisher token: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", fi.Mode())
	}
	token := strings.TrimSpace(string(secret))
	if code := send(token); code != http.StatusOK {
		t.Fatalf("publisher token = %d, want 200", code)
	}
	s.stop(t)
	if !strings.Contains(s.logs.String(), path) || strings.Contains(s.logs.String(), token) {
		t.Fatal("the log must name the token file and never contain the token")
	}
}

func TestServe_SecondServerOnSameDataDirFailsClearly(t *testing.T) {
	chtest.RequireLibrary(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	s := start(t, bin, dir)
	out, err := exec.Command(bin, "log", "count", "--data-dir", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "locked by another process") {
		t.Fatalf("second process on the same data dir: err %v, output %s", err, out)
	}
	s.stop(t)
}
