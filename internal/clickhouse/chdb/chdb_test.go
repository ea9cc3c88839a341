package chdb

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// requireLibrary returns the library path, failing in CI and skipping
// elsewhere when it is missing.
func requireLibrary(t *testing.T) string {
	t.Helper()
	p := DefaultLibraryPath()
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("libchdb.so missing at %s in CI: `make deps` must install it", p)
		}
		t.Skipf("libchdb.so missing at %s; run `make deps`", p)
	}
	return p
}

func TestConnect_QueryWithServerSideParameters(t *testing.T) {
	c, err := Connect(Config{LibraryPath: requireLibrary(t), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, err := c.Query("SELECT {s:String} AS s, {n:UInt64} + 1 AS n", "TSV", []string{"n", "s"}, []string{"41", "it's; DROP TABLE x"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out.Data), "it\\'s; DROP TABLE x\t42\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestInsert_StreamsRowBinaryAndCommits(t *testing.T) {
	c, err := Connect(Config{LibraryPath: requireLibrary(t), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Query("CREATE TABLE t (a UInt8, s String) ENGINE = MergeTree ORDER BY a", "TSV", nil, nil); err != nil {
		t.Fatal(err)
	}
	// Two rows of RowBinary: UInt8, then a LEB128-length-prefixed string,
	// including a NUL byte to prove the path is binary-safe.
	data := []byte{1, 3, 'a', 0, 'b', 2, 0}
	out, err := c.Insert("INSERT INTO t (a, s)", "RowBinary", data)
	if err != nil {
		t.Fatal(err)
	}
	if out.RowsWritten != 2 {
		t.Errorf("rows written = %d, want 2", out.RowsWritten)
	}
	got, err := c.Query("SELECT a, hex(s) FROM t ORDER BY a", "TSV", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "1\t610062\n2\t\n"; string(got.Data) != want {
		t.Fatalf("got %q, want %q", got.Data, want)
	}
}

func TestQuery_EngineErrorCarriesCode(t *testing.T) {
	c, err := Connect(Config{LibraryPath: requireLibrary(t), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Query("SELECT * FROM no_such_table", "TSV", nil, nil)
	var e *EngineError
	if !errors.As(err, &e) || e.Code != 60 || !strings.Contains(e.Message, "no_such_table") {
		t.Fatalf("got %v, want UNKNOWN_TABLE (60)", err)
	}
}

func TestConnect_SecondDirectoryInProcessIsRefused(t *testing.T) {
	lib := requireLibrary(t)
	c, err := Connect(Config{LibraryPath: lib, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := Connect(Config{LibraryPath: lib, DataDir: t.TempDir()}); !errors.Is(err, ErrOtherDirOpen) {
		t.Fatalf("got %v, want ErrOtherDirOpen", err)
	}
}

// After the engine is open, an ordinary Go nil dereference must still be a
// recoverable panic: chDB's own fatal-signal handlers would hang the process.
func TestGoPanicIsRecoverableAfterConnect(t *testing.T) {
	c, err := Connect(Config{LibraryPath: requireLibrary(t), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Query("SELECT 1", "TSV", nil, nil); err != nil {
		t.Fatal(err)
	}
	recovered := func() (r any) {
		defer func() { r = recover() }()
		var p *struct{ x int }
		return p.x
	}()
	if recovered == nil {
		t.Fatal("nil dereference did not panic")
	}
}

func TestConnect_MissingLibraryExplainsHowToGetIt(t *testing.T) {
	_, err := Connect(Config{LibraryPath: "/nonexistent/libchdb.so", DataDir: t.TempDir()})
	if !errors.Is(err, ErrLibraryMissing) || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("got %v", err)
	}
}
