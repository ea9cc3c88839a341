package spelling

import (
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		limit int
		want  int
	}{
		{"contact.emial", "contact.email", 100, 1}, // transposition costs 1
		{"purpose", "purposes", 100, 1},
		{"", "abc", 100, 3},
		{"abc", "abc", 100, 0},
		{"kitten", "sitting", 100, 3},
		{"ca", "abc", 100, 3}, // optimal string alignment, not full Damerau-Levenshtein
		{"é", "e", 100, 1},    // runes, not bytes
		{"a", "abcdef", 3, 3}, // lengths alone exceed the limit
	} {
		if got := Distance(tc.a, tc.b, tc.limit); got != tc.want {
			t.Errorf("Distance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}

func TestWords(t *testing.T) {
	for in, want := range map[string]string{
		"geolocation.approximate": "geolocation approximate",
		"Fulfil_Order":            "fulfil order",
		"data-broker":             "data broker",
		"bp.short_term":           "bp short term",
		"._a__b. ":                "a b",
		"":                        "",
	} {
		if got := strings.Join(Words(in), " "); got != want {
			t.Errorf("Words(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchWords(t *testing.T) {
	w := strings.Fields
	for _, tc := range []struct {
		a, b        string
		cost, extra int
		ok          bool
	}{
		{"fulfilment order", "order fulfilment", 0, 0, true},       // reordered
		{"order fulfillment", "order fulfilment", 1, 0, true},      // one edit in one word
		{"emial contact", "contact email", 1, 0, true},             // reordered and transposed
		{"payment", "payment processing", 0, 1, true},              // a subset
		{"payments", "payment processing", 1, 1, true},             // a subset, misspelt
		{"order order", "order fulfilment", 0, 0, false},           // each word of b pairs once
		{"payment processing", "payment", 0, 0, false},             // more words than b
		{"favourite colour", "contact email", 0, 0, false},         // unrelated
		{"ssn", "sms", 0, 0, false},                                // short words must be equal
		{"geolocation precise", "geolocation coarse", 0, 0, false}, // too far
		{"", "a", 0, 0, false},
		{"a", "a b c d e f g h i", 0, 0, false}, // too many words to try
	} {
		cost, extra, ok := MatchWords(w(tc.a), w(tc.b))
		if cost != tc.cost || extra != tc.extra || ok != tc.ok {
			t.Errorf("MatchWords(%q, %q) = %d, %d, %t; want %d, %d, %t", tc.a, tc.b, cost, extra, ok, tc.cost, tc.extra, tc.ok)
		}
	}
}
