package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/server"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a server serving on a loopback port.
type running struct {
	srv      *server.Server
	url      string
	registry *prometheus.Registry
	logs     *syncBuffer
	client   *http.Client
	stop     func() error // cancels Serve and returns its result
}

// newServer builds a server on 127.0.0.1:0 with checks; routes registers
// extra handlers before it starts serving. The server is stopped when the
// test ends.
func newServer(t *testing.T, routes func(*server.Server), checks ...server.Check) *running {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	registry := prometheus.NewRegistry()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", ShutdownTimeout: 10 * time.Second}, log, registry, checks...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if routes != nil {
		routes(srv)
	}
	addr, err := srv.Listen()
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			serveErr = <-done
			client.CloseIdleConnections()
		})
		return serveErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &running{srv: srv, url: "http://" + addr.String(), registry: registry, logs: logs, client: client, stop: stop}
}

func (r *running) do(t *testing.T, method, path string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, r.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func passing(name string) server.Check {
	return server.Check{Name: name, Run: func(context.Context) error { return nil }}
}

func failing(name string, err error) server.Check {
	return server.Check{Name: name, Run: func(context.Context) error { return err }}
}

func TestProbes_ReportLivenessAndReadinessWithoutLeakingErrors(t *testing.T) {
	leak := errors.New("dial tcp 10.0.0.7:9000: password=hunter2 rejected")
	tests := []struct {
		name      string
		checks    []server.Check
		path      string
		wantCode  int
		wantBody  string
		notInBody []string
		wantInLog string
	}{
		{name: "healthz is ok while a check fails", checks: []server.Check{failing("clickhouse", leak)},
			path: "/healthz", wantCode: http.StatusOK, wantBody: "ok\n"},
		{name: "readyz without checks is ready", path: "/readyz", wantCode: http.StatusOK, wantBody: "ready\n"},
		{name: "readyz with passing checks is ready", checks: []server.Check{passing("clickhouse"), passing("broker")},
			path: "/readyz", wantCode: http.StatusOK, wantBody: "ready\n"},
		{name: "readyz names the failing check only", checks: []server.Check{failing("clickhouse", leak)},
			path: "/readyz", wantCode: http.StatusServiceUnavailable, wantBody: "clickhouse: not ready\n",
			notInBody: []string{"hunter2", "10.0.0.7", "dial tcp"}, wantInLog: "hunter2"},
		{name: "readyz names the first failing check after passing ones",
			checks: []server.Check{passing("clickhouse"), failing("broker", leak), failing("later", leak)},
			path:   "/readyz", wantCode: http.StatusServiceUnavailable, wantBody: "broker: not ready\n",
			notInBody: []string{"hunter2", "clickhouse", "later"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newServer(t, nil, tt.checks...)
			code, header, body := r.do(t, http.MethodGet, tt.path)
			if code != tt.wantCode || body != tt.wantBody {
				t.Fatalf("GET %s = %d %q, want %d %q", tt.path, code, body, tt.wantCode, tt.wantBody)
			}
			if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", ct)
			}
			for _, s := range tt.notInBody {
				if strings.Contains(body, s) {
					t.Errorf("body %q leaks %q", body, s)
				}
			}
			if tt.wantInLog != "" && !strings.Contains(r.logs.String(), tt.wantInLog) {
				t.Errorf("log does not carry the check's error for operators:\n%s", r.logs.String())
			}
		})
	}
}

func TestReadyz_ChecksRunWithADeadline(t *testing.T) {
	var hadDeadline bool
	r := newServer(t, nil, server.Check{Name: "clickhouse", Run: func(ctx context.Context) error {
		_, hadDeadline = ctx.Deadline()
		return nil
	}})
	if code, _, _ := r.do(t, http.MethodGet, "/readyz"); code != http.StatusOK {
		t.Fatalf("GET /readyz = %d", code)
	}
	if !hadDeadline {
		t.Error("a readiness check ran without a deadline; a hung dependency would hang the probe")
	}
}

func TestMetrics_CountsRequestsByRouteAndCode(t *testing.T) {
	r := newServer(t, func(s *server.Server) {
		s.Handle("POST /v1/fail", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
	})
	r.do(t, http.MethodGet, "/healthz")
	r.do(t, http.MethodGet, "/healthz")
	r.do(t, http.MethodPost, "/v1/fail")

	code, header, body := r.do(t, http.MethodGet, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", ct)
	}
	for _, want := range []string{
		`custody_http_requests_total{code="200",route="GET /healthz"} 2`,
		`custody_http_requests_total{code="503",route="POST /v1/fail"} 1`,
		`custody_http_request_duration_seconds_count{route="GET /healthz"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
}

func TestMetrics_ServesCollectorsOfThePassedRegistry(t *testing.T) {
	r := newServer(t, nil)
	other := prometheus.NewCounter(prometheus.CounterOpts{Name: "custody_other_total", Help: "another package's metric"})
	r.registry.MustRegister(other)
	other.Add(3)
	_, _, body := r.do(t, http.MethodGet, "/metrics")
	if !strings.Contains(body, "custody_other_total 3") {
		t.Errorf("/metrics lacks another package's metric:\n%s", body)
	}
}

func TestNew_RefusesARegistryThatAlreadyHasItsMetrics(t *testing.T) {
	registry := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	if _, err := server.New(server.Config{Addr: "127.0.0.1:0"}, log, registry); err != nil {
		t.Fatal(err)
	}
	if _, err := server.New(server.Config{Addr: "127.0.0.1:0"}, log, registry); err == nil {
		t.Fatal("second New on the same registry succeeded; want a registration error")
	}
}

func TestHandle_RoutesByMethodPattern(t *testing.T) {
	r := newServer(t, func(s *server.Server) {
		s.Handle("POST /v1/events", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
		}))
	})
	tests := []struct {
		method, path string
		wantCode     int
		wantAllow    string
	}{
		{http.MethodPost, "/v1/events", http.StatusAccepted, ""},
		{http.MethodGet, "/v1/events", http.StatusMethodNotAllowed, "POST"},
		{http.MethodDelete, "/v1/events", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "GET"},
		{http.MethodGet, "/v1/unknown", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			code, header, _ := r.do(t, tt.method, tt.path)
			if code != tt.wantCode {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, code, tt.wantCode)
			}
			if tt.wantAllow != "" && !strings.Contains(header.Get("Allow"), tt.wantAllow) {
				t.Errorf("Allow = %q, want it to list %s", header.Get("Allow"), tt.wantAllow)
			}
		})
	}
}

func TestServe_CancelLetsInFlightRequestsFinishAndReturnsNil(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	requestCtxErr := make(chan error, 1)
	r := newServer(t, func(s *server.Server) {
		s.Handle("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			close(started)
			<-release
			requestCtxErr <- req.Context().Err()
			_, _ = w.Write([]byte("done"))
		}))
	})
	host := strings.TrimPrefix(r.url, "http://")

	type answer struct {
		code int
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := r.client.Get(r.url + "/slow")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{code: resp.StatusCode, body: string(b), err: err}
	}()
	<-started

	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()

	// Shutdown closes the listener first: wait until new connections are
	// refused, then let the in-flight request finish.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepts connections after the context was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) while a request was still in flight", err)
	default:
	}
	close(release)

	a := <-answered
	if a.err != nil || a.code != http.StatusOK || a.body != "done" {
		t.Fatalf("in-flight request = %d %q, %v; want 200 \"done\"", a.code, a.body, a.err)
	}
	if err := <-requestCtxErr; err != nil {
		t.Errorf("in-flight request's context was cancelled by shutdown: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Serve after cancel = %v, want nil", err)
	}
}

func TestServe_ReturnsErrorWhenTheAddressIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	srv, err := server.New(server.Config{Addr: taken.Addr().String()}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Serve(ctx)
	if err == nil || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("Serve on a taken address = %v, want an error naming %s", err, taken.Addr())
	}
}

func TestListen_PortZeroBindsAFreePort(t *testing.T) {
	r := newServer(t, nil)
	addr, err := net.ResolveTCPAddr("tcp", strings.TrimPrefix(r.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if addr.Port == 0 || !addr.IP.IsLoopback() {
		t.Fatalf("bound %v, want a loopback address with a real port", addr)
	}
	if code, _, _ := r.do(t, http.MethodGet, "/healthz"); code != http.StatusOK {
		t.Fatalf("GET /healthz on the bound port = %d", code)
	}
}

func TestConfigValidate_RejectsAddressesThatCannotBeListenedOn(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr bool
	}{
		{"127.0.0.1:8080", false},
		{"127.0.0.1:0", false},
		{":8080", false},
		{"[::1]:8080", false},
		{"localhost:65535", false},
		{"", true},
		{"8080", true},
		{"localhost", true},
		{"127.0.0.1:8080:9090", true},
		{"127.0.0.1:99999", true},
		{"127.0.0.1:-1", true},
		{"127.0.0.1:eighty", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := server.Config{Addr: tt.addr}.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate(%q) = %v, want error: %v", tt.addr, err, tt.wantErr)
			}
			if err != nil && tt.addr != "" && !strings.Contains(err.Error(), tt.addr) {
				t.Errorf("error %q does not name the address", err)
			}
			_, err = server.New(server.Config{Addr: tt.addr}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q) = %v, want error: %v", tt.addr, err, tt.wantErr)
			}
		})
	}
}
