// Package auth is Custody's bearer-token authentication: tokens with roles
// (publisher may only ingest, analyst may read, admin may do everything),
// kept only as SHA-256 hashes, checked in constant time, and HTTP
// middleware that answers 401 (no or unknown token) or 403 (wrong role),
// as {"error": …} or in the shape an API chooses (RequireWith).
//
// It is not an identity provider: tokens come from configuration, or are
// generated into the data directory on first start (see Bootstrap).
package auth
