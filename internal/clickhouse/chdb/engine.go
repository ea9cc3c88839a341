package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Errors of the binding. The embedded transport maps them onto the port's
// sentinel errors.
var (
	// ErrLibraryMissing means libchdb.so is not where the configuration says.
	ErrLibraryMissing = errors.New("chdb: libchdb.so not found")
	// ErrDirLocked means another process owns the data directory.
	ErrDirLocked = errors.New("chdb: data directory is locked by another process")
	// ErrOtherDirOpen means this process already serves another data
	// directory; chDB allows one per process.
	ErrOtherDirOpen = errors.New("chdb: another data directory is open in this process")
	// ErrClosed is returned by a closed Conn.
	ErrClosed = errors.New("chdb: connection closed")
)

// EngineError is an error reported by the ClickHouse engine itself.
type EngineError struct {
	// Code is ClickHouse's error code (e.g. 60 for UNKNOWN_TABLE), 0 if absent.
	Code    int
	Message string
}

var codePattern = regexp.MustCompile(`Code: (\d+)\.`)

func newEngineError(msg string) *EngineError {
	e := &EngineError{Message: strings.TrimSpace(msg)}
	if m := codePattern.FindStringSubmatch(msg); m != nil {
		e.Code, _ = strconv.Atoi(m[1])
	}
	return e
}

func (e *EngineError) Error() string { return "clickhouse: " + e.Message }

// process is the engine's process-wide state. It is a package variable on
// purpose: libchdb.so holds one engine per process with one data directory,
// so the only honest model of it in Go is process-wide too.
var process struct {
	mu    sync.Mutex
	apis  map[string]*api // by library path; dlopen'd once, never closed
	path  string          // data directory the engine serves, "" if none
	conns int             // open connections on path
}

// Config says which library to load and which data directory to serve.
type Config struct {
	// LibraryPath is the path of libchdb.so.
	LibraryPath string
	// DataDir is the engine's data directory (created if missing).
	DataDir string
	// Args are extra engine arguments, e.g. "--max_threads=2".
	Args []string
}

// Conn is one connection to the engine. A Conn runs one statement at a time
// (callers serialise; the embedded transport pools several Conns).
type Conn struct {
	mu     sync.Mutex
	c      *conn
	path   string
	closed bool
}

// Connect loads the library if needed and opens a connection to DataDir.
// Several connections to the same directory may be open at once; a different
// directory fails with ErrOtherDirOpen until all are closed.
func Connect(cfg Config) (*Conn, error) {
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("chdb data directory %q: %w", cfg.DataDir, err)
	}
	process.mu.Lock()
	defer process.mu.Unlock()
	a, err := loadLocked(cfg.LibraryPath)
	if err != nil {
		return nil, err
	}
	if process.conns > 0 && process.path != dir {
		return nil, fmt.Errorf("%w: %s is open, %s was asked for", ErrOtherDirOpen, process.path, dir)
	}
	if process.conns == 0 {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create chdb data directory: %w", err)
		}
		if err := checkUnlocked(dir); err != nil {
			return nil, err
		}
	}
	args := append([]string{"clickhouse", "--path=" + dir}, cfg.Args...)
	c, err := a.connect(args)
	if err != nil {
		// The engine prints why to stderr only; a lock taken between our
		// check and the connect is the one cause we can name.
		if lockErr := checkUnlocked(dir); lockErr != nil {
			return nil, lockErr
		}
		return nil, fmt.Errorf("chdb connect %s: %w", dir, err)
	}
	process.path = dir
	process.conns++
	return &Conn{c: c, path: dir}, nil
}

func loadLocked(path string) (*api, error) {
	if a, ok := process.apis[path]; ok {
		return a, nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w at %s (%v): run `make deps` to fetch it, or set CUSTODY_CHDB_LIB to its path", ErrLibraryMissing, path, err)
	}
	a, err := loadAPI(path)
	if err != nil {
		return nil, err
	}
	// Before the first connect: otherwise chDB installs handlers for SIGSEGV
	// and friends, and a Go nil dereference hangs instead of panicking.
	a.disableSignalHandlers()
	if process.apis == nil {
		process.apis = map[string]*api{}
	}
	process.apis[path] = a
	return a, nil
}

// checkUnlocked fails with ErrDirLocked when another process holds the
// engine's status-file lock (ClickHouse flocks DIR/status while it runs).
func checkUnlocked(dir string) error {
	status := filepath.Join(dir, "status")
	f, err := os.Open(status)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", status, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(status)
		return fmt.Errorf("%w: %s (%s); stop that process or use another data directory",
			ErrDirLocked, dir, strings.Join(strings.Fields(string(owner)), " "))
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// Version is the engine's version, e.g. "26.7.0".
func (c *Conn) Version() string { return c.c.a.version() }

// Query runs one statement and returns its output in format (e.g.
// "RowBinaryWithNamesAndTypes"). names and values bind {name:Type}
// parameters server-side.
func (c *Conn) Query(query, format string, names, values []string) (Output, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Output{}, ErrClosed
	}
	out, err := c.c.query(query, format, names, values)
	return out, wrapEngine(err)
}

// Insert runs query (an INSERT without FORMAT or data) fed with data in
// format, committing it as one insert.
func (c *Conn) Insert(query, format string, data []byte) (Output, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Output{}, ErrClosed
	}
	out, err := c.c.insert(query, format, data)
	return out, wrapEngine(err)
}

func wrapEngine(err error) error {
	var e *EngineError
	if errors.As(err, &e) {
		return newEngineError(e.Message)
	}
	return err
}

// Close closes the connection; it is idempotent.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.c.close()
	process.mu.Lock()
	defer process.mu.Unlock()
	process.conns--
	if process.conns == 0 {
		process.path = ""
	}
	return nil
}
