// Package demo turns business profiles into realistic, deterministic event
// streams for demonstrations, tests and benchmarks.
//
// A Profile (examples/profiles/*.yaml) describes one business as data: what
// it collects from which sources and why, where it keeps it, whom it
// discloses it to and as what (business purpose, sale, sharing), what it
// derives, which choices people can make and how long it keeps things. Each
// of the five reference customers of the spec has one, modelled on its
// privacy policy. A profile may also declare Violations: practices its
// policy does not admit to, there on purpose so that the drift between
// policy and practice can be demonstrated.
//
// LoadProfile reads a profile strictly and Validate checks it against the
// taxonomy, reporting every problem with its YAML path. DataMap and
// ViolationMap say which data map rows the profile declares, and Generate
// simulates the lives of people dealing with the business — visits,
// sign-ups, single sign-on, purchases, support, partner imports, shares and
// sales, profiling, device links, opt-outs (GPC included) and their effect,
// corrections, retention and erasure — as SDK events, streamed one by one.
//
// Generation is pure: no clock, no global randomness, no I/O. The same
// profiles, Config and seed give the same events, byte for byte. Sending
// them anywhere is the caller's business (cmd/custody demo).
package demo
