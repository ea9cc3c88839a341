// Package storage assembles Custody's storage from configuration, the way a
// storage factory does: it opens the configured ClickHouse transport
// (embedded chDB or a native server), applies migrations, loads the secrets
// (master key, identifier key), checks them against the fingerprints of
// the keys the stored data was written under (keys.go: a missing or
// different key is refused with ErrKeyMissing or ErrKeyMismatch, and
// missing key files are generated only into an empty installation) and
// builds the repositories on top. Commands call Open; nothing else chooses
// a transport.
package storage
