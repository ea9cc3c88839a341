package chdb

import (
	"os"
	"path/filepath"
)

// PinnedVersion is the npm version of @chdb/lib-linux-x64-gnu that Custody is
// built and tested against (ClickHouse 26.7.2.1). `make deps` fetches it;
// keep the two in step (a test checks the Makefile).
const PinnedVersion = "26.7.3-stable.1"

// LibraryEnv overrides where libchdb.so is loaded from.
const LibraryEnv = "CUSTODY_CHDB_LIB"

// DefaultLibraryPath is $CUSTODY_CHDB_LIB if set, else the cache location
// `make deps` installs to: $XDG_CACHE_HOME (or ~/.cache)/custody/chdb/<version>/libchdb.so.
func DefaultLibraryPath() string {
	if p := os.Getenv(LibraryEnv); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "custody", "chdb", PinnedVersion, "libchdb.so")
}
