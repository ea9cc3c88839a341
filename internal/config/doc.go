// Package config is Custody's configuration: one YAML file, then CUSTODY_*
// environment overrides, then defaults, then Validate. Every command reads
// it the same way; nothing else in Custody reads the environment for
// settings (libraries take config structs).
package config
