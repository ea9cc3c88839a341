// Package chdb is a small binding of chDB's C API (libchdb.so), loaded at run
// time with dlopen so that Custody builds without the 566 MB library and a
// missing library is a clear error at start, not a link failure.
//
// It exposes exactly what the embedded transport needs: connect to a data
// directory, run a query (binary-safe, optionally with server-side
// {name:Type} parameters) and get its output bytes, and stream a bulk INSERT.
// It knows nothing about rows, types or SQL; package embedded does.
//
// The engine is process-wide: chDB serves one data directory per process, so
// Library keeps a process registry (see registry.go) and refuses a second
// directory while one is open, with an error that says so.
package chdb
