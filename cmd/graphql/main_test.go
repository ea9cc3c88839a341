package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/node"
)

func TestHelp(t *testing.T) {
	cmd := newRoot()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/graphql", "clickhouse.transport: native", "--config", "--addr"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
}

// The role serves GraphQL and the probes, and nothing of ingest. (On the
// embedded engine here; replicas use the native transport, which the
// storage tests cover.)
func TestRunGraphQL_ServesTheAPIAlone(t *testing.T) {
	chtest.RequireLibrary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg, err := config.Load("", []string{"CUSTODY_DATA_DIR=" + t.TempDir(), "CUSTODY_HTTP_ADDR=" + addr, "CUSTODY_LOG_LEVEL=error",
		"CUSTODY_CHDB_LIB=" + os.Getenv("CUSTODY_CHDB_LIB")})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := auth.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.Tokens = []auth.Token{{Name: "analyst", Role: auth.Analyst, SHA256: auth.Hash(secret)}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.RunGraphQL(ctx, cfg, "test") }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunGraphQL: %v", err)
		}
	}()
	base := "http://" + addr
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready after a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ requests { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /graphql = %d", resp.StatusCode)
	}
	resp, err = http.Post(base+"/v1/events", "application/json", strings.NewReader(`[]`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST /v1/events on the GraphQL role = %d, want 404", resp.StatusCode)
	}
}
