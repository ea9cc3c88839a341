package embedded_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chdb"
	"github.com/custodyhq/custody/internal/clickhouse/conformance"
	"github.com/custodyhq/custody/internal/clickhouse/embedded"
)

// holdEnv makes the test binary a helper process that owns a data
// directory until its stdin closes (see TestOpen_LockedDirectory).
const holdEnv = "CUSTODY_TEST_HOLD_DATA_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdEnv); dir != "" {
		os.Exit(hold(dir))
	}
	os.Exit(m.Run())
}

func hold(dir string) int {
	c, err := embedded.Open(context.Background(), embedded.Config{DataDir: dir, Connections: 1})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer c.Close()
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// requireLibrary fails in CI and skips elsewhere when libchdb.so is missing.
func requireLibrary(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chdb.DefaultLibraryPath()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("libchdb.so missing at %s in CI: `make deps` must install it", chdb.DefaultLibraryPath())
		}
		t.Skipf("libchdb.so missing; run `make deps`")
	}
}

func TestConformance(t *testing.T) {
	requireLibrary(t)
	dir := t.TempDir()
	conformance.Run(t, func(t *testing.T) clickhouse.Conn {
		c, err := embedded.Open(context.Background(), embedded.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

func TestOpen_DataSurvivesReopen(t *testing.T) {
	requireLibrary(t)
	dir := t.TempDir()
	ctx := context.Background()
	c, err := embedded.Open(ctx, embedded.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "CREATE TABLE t (a UInt64) ENGINE = MergeTree ORDER BY a", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Insert(ctx, "t", []struct {
		A uint64 `ch:"a"`
	}{{1}, {2}, {3}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = embedded.Open(ctx, embedded.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var rows []struct {
		N uint64 `ch:"n"`
	}
	if err := c.Select(ctx, &rows, "SELECT sum(a) AS n FROM t", nil); err != nil {
		t.Fatal(err)
	}
	if rows[0].N != 6 {
		t.Fatalf("sum after reopen = %d, want 6", rows[0].N)
	}
}

func TestOpen_LockedDirectoryIsAClearError(t *testing.T) {
	requireLibrary(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("helper process: %q, %v", line, err)
	}
	_, err = embedded.Open(context.Background(), embedded.Config{DataDir: dir})
	if !errors.Is(err, clickhouse.ErrLocked) {
		t.Fatalf("got %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), filepath.Base(dir)) {
		t.Errorf("error does not name the directory: %v", err)
	}
	t.Logf("error shown to the user: %v", err)
}

func TestOpen_MissingLibraryIsUnavailableWithInstructions(t *testing.T) {
	_, err := embedded.Open(context.Background(), embedded.Config{DataDir: t.TempDir(), LibraryPath: "/nonexistent/libchdb.so"})
	if !errors.Is(err, clickhouse.ErrUnavailable) || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("got %v", err)
	}
}

func TestSelect_HonoursCancelledContext(t *testing.T) {
	requireLibrary(t)
	c, err := embedded.Open(context.Background(), embedded.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	var rows []struct {
		A uint8 `ch:"a"`
	}
	if err := c.Select(ctx, &rows, "SELECT 1 AS a", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
}
