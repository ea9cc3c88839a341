// Package progress reports how far a long operation has come — loading demo
// data, rebuilding projections, replaying events — on one line of a
// terminal or, when the output is not a terminal (CI, pipes, log files),
// as a plain line every few seconds.
//
// A Reporter starts no goroutine: it redraws from Add when a redraw is due,
// so nothing is left running when the caller forgets Finish, and an idle
// operation prints nothing. It is not a logger and keeps no history.
package progress
