package event

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custodyhq/custody/internal/spelling"
)

// FieldError is one problem with one event. Path is a JSON path into the
// event, e.g. "data.elements[2].category", "subject.identifiers[0].value" or
// "time"; "" means the event as a whole. Reason says what is wrong and how to
// fix it; it never contains identifier or element values.
type FieldError struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// field joins a JSON path and an object member name.
func field(path, name string) string {
	if !plainKey(name) {
		name = strconv.Quote(clip(name, 64))
		return path + "[" + name + "]"
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

// index joins a JSON path and an array index.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func plainKey(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// clip shortens s to at most n bytes (on a rune boundary) for quoting in a
// message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// quote renders a key or term for a message: `like_this`.
func quote(s string) string { return "`" + clip(s, 100) + "`" }

// didYouMean formats a suggestion suffix, or "".
func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return "; did you mean " + quote(s) + "?"
}

// suggest returns the candidate closest to s, or "" when none is close
// enough to be a likely typo. Case, '_', '-' and '.' are ignored first
// (legalBasis → legal_basis); otherwise the edit distance (with
// transpositions) must be at most a third of the length, and at least 1.
func suggest(s string, candidates []string) string {
	if s == "" || len(s) > 100 {
		return ""
	}
	fold := func(x string) string {
		return strings.Map(func(r rune) rune {
			switch r {
			case '_', '-', '.', ' ':
				return -1
			}
			return r
		}, strings.ToLower(x))
	}
	fs := fold(s)
	best, bestD := "", -1
	for _, c := range candidates {
		if fold(c) == fs {
			return c
		}
		d := spelling.Distance(s, c, math.MaxInt)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(1, utf8.RuneCountInString(s)/3)
	if bestD >= 0 && bestD <= limit {
		return best
	}
	return ""
}

func typeNames[T ~string](ts []T) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

// unknownValue explains a value outside a fixed set: a suggestion when one is
// close, else the allowed values.
func unknownValue(what, got string, allowed []string) string {
	msg := "unknown " + what + " " + quote(got)
	if sg := suggest(got, allowed); sg != "" {
		return msg + didYouMean(sg)
	}
	return msg + "; use " + oneOf(allowed)
}

// oneOf lists allowed values for a message: `a`, `b` or `c`.
func oneOf(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = quote(v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
