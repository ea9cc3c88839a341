package spelling

import "testing"

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
