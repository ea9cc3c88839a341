// Package storage assembles Custody's storage from configuration, the way a
// storage factory does: it opens the configured ClickHouse transport
// (embedded chDB or a native server), applies migrations, loads the secrets
// (master key, identifier key) and builds the repositories on top. Commands
// call Open; nothing else chooses a transport.
package storage
