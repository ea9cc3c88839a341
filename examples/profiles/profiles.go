// Package profiles embeds the demo business profiles, one per reference
// customer of the spec, so that the custody binary carries them. Each
// <tenant>.yaml models one privacy policy; internal/demo reads, validates
// and generates events from them.
package profiles

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml
var files embed.FS

// FS returns the profiles: <tenant>.yaml files at the root.
func FS() fs.FS { return files }
