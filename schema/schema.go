// Package schema holds Custody's contracts as data: ClickHouse migrations
// (clickhouse/), the JSON Schema of the event contract (events/), the
// privacy taxonomy (taxonomy/) and, later, report schemas. Go code reads
// them through the embedded file systems below; nothing here is generated.
package schema

import (
	"embed"
	"io/fs"
)

//go:embed clickhouse events taxonomy
var files embed.FS

// ClickHouse returns the migrations directory: NNN_name.sql files.
func ClickHouse() fs.FS { return sub("clickhouse") }

// Events returns the JSON Schema files of the event contract.
func Events() fs.FS { return sub("events") }

// Taxonomy returns the taxonomy data files.
func Taxonomy() fs.FS { return sub("taxonomy") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		// fs.Sub fails only for an invalid path, and dir is a constant.
		panic(err)
	}
	return f
}
