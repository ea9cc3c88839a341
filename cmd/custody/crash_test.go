package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/storage"
)

// postBatch sends lines as NDJSON and returns the ids the server
// acknowledged (accepted or duplicate), or an error when there was no 2xx.
func postBatch(client *http.Client, url string, lines []string) (map[string]string, error) {
	resp, err := client.Post(url+"/v1/events", "application/x-ndjson", strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var r ingestResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, res := range r.Results {
		out[res.ID] = res.Status
	}
	return out, nil
}

func TestServe_SIGKILLUnderLoadLosesNothingAcknowledged(t *testing.T) {
	chtest.RequireLibrary(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	s := start(t, bin, dir, "--dev")

	var mu sync.Mutex
	acked := map[string]string{} // id → the event's line
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 1000 && ctx.Err() == nil; n++ {
				lines := map[string]string{}
				var batch []string
				for i := 0; i < 50; i++ {
					id := uuid.New()
					line := strings.ReplaceAll(collected(id, fmt.Sprintf("p%d@example.com", i)), "\n", "")
					lines[id.String()] = line
					batch = append(batch, line)
				}
				got, err := postBatch(client, s.addr, batch)
				if err != nil {
					continue // the server is being killed; unacknowledged events may or may not be stored
				}
				mu.Lock()
				for id, status := range got {
					if status == "accepted" || status == "duplicate" {
						acked[id] = lines[id]
					}
				}
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 3000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 1000 {
		t.Fatalf("only %d events acknowledged before the kill; the load generator did not run", len(acked))
	}
	t.Logf("%d events acknowledged before SIGKILL", len(acked))

	// After a restart the pipeline recovers by itself what was acknowledged
	// but not yet in the log: messages delivered to the killed process come
	// back after the broker's AckWait (30 s on a single node). Once the
	// pipeline has gone quiet every acknowledged event must be stored,
	// which the log's id index answers once the server has stopped. A
	// fixed wait is not enough on a loaded machine: the redelivered batches
	// may still be queued behind each other.
	s = start(t, bin, dir, "--dev")
	time.Sleep(32 * time.Second)
	waitPipelineQuiet(t, s.addr, 10*time.Second, 3*time.Minute)
	s.stop(t)
	ids := make([]uuid.UUID, 0, len(acked))
	for id := range acked {
		ids = append(ids, uuid.MustParse(id))
	}
	if missing := notInLog(t, dir, ids); len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged events were not in the log after the restart, e.g. %s", len(missing), len(ids), missing[0])
	}

	out, err := exec.Command(bin, "log", "verify", "--data-dir", dir).Output()
	if err != nil {
		t.Fatalf("custody log verify: %v\n%s", err, out)
	}
	var events, distinct, twice int
	if _, err := fmt.Sscanf(string(bytes.TrimSpace(out)), "events %d\ndistinct %d\nvisible_twice %d", &events, &distinct, &twice); err != nil {
		t.Fatalf("parse verify output %q: %v", out, err)
	}
	if twice != 0 || events != distinct || distinct < len(acked) {
		t.Fatalf("log: %d events, %d distinct, %d visible twice; %d were acknowledged", events, distinct, twice, len(acked))
	}
}

// notInLog opens the stopped node's storage and returns which of ids its
// log does not hold.
func notInLog(t *testing.T, dir string, ids []uuid.UUID) []uuid.UUID {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load("", []string{"CUSTODY_DATA_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	known, err := store.Events.Known(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	var missing []uuid.UUID
	for _, id := range ids {
		if !known[id] {
			missing = append(missing, id)
		}
	}
	return missing
}

// waitPipelineQuiet waits until the pipeline has handled no message for
// quiet (custody_pipeline_batches_total unchanged), or fails after limit.
func waitPipelineQuiet(t *testing.T, addr string, quiet, limit time.Duration) {
	t.Helper()
	batches := func() string {
		_, metrics := get(t, addr+"/metrics")
		var lines []string
		for _, l := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(l, "custody_pipeline_batches_total") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	deadline := time.Now().Add(limit)
	last, since := batches(), time.Now()
	for time.Since(since) < quiet {
		if time.Now().After(deadline) {
			t.Fatalf("the pipeline was still storing batches after %s", limit)
		}
		time.Sleep(time.Second)
		if now := batches(); now != last {
			last, since = now, time.Now()
		}
	}
}
