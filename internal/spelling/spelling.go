// Package spelling measures how far apart two words are, for "did you mean"
// suggestions in error messages (unknown fields, unknown taxonomy terms).
// Callers choose their own candidates and thresholds. Words and MatchWords
// compare keys word by word, in any order ("fulfil_order" and
// "order_fulfilment"); callers map synonyms onto one word first.
package spelling

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Distance returns the optimal-string-alignment edit distance between a and
// b: insertions, deletions, substitutions and adjacent transpositions each
// cost 1, over runes. When the lengths alone show the distance is at least
// limit, it returns limit without computing it; pass a limit above
// max(len(a), len(b)) for the exact distance.
func Distance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d >= limit || -d >= limit {
		return limit
	}
	// Three rows: i-2, i-1 and i.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Words splits a key into its lower-cased words at '.', '_', '-' and
// spaces: "Geolocation.Approximate" is [geolocation approximate].
func Words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == '.' || r == '_' || r == '-' || unicode.IsSpace(r)
	})
}

// WordLimit is how many edits two words may be apart and still count as
// one word misspelt, for words whose shorter has n runes: none up to 3
// runes, 1 up to 7, 2 beyond.
func WordLimit(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 7:
		return 1
	}
	return 2
}

// maxMatchWords bounds the words MatchWords pairs (it tries every
// pairing): keys have a handful.
const maxMatchWords = 8

// MatchWords pairs every word of a with a different word of b, each pair
// the same word or within WordLimit edits of it, in any order. ok reports
// whether there is such a pairing; cost is the fewest edits of one, and
// extra the words of b left unpaired. So [fulfilment order] matches
// [order fulfilment] at cost 0, and [payment] matches [payment processing]
// with one word extra.
func MatchWords(a, b []string) (cost, extra int, ok bool) {
	if len(a) == 0 || len(a) > len(b) || len(b) > maxMatchWords {
		return 0, 0, false
	}
	d := make([][]int, len(a)) // d[i][j]: edits from a[i] to b[j], -1 when too far
	for i, x := range a {
		d[i] = make([]int, len(b))
		for j, y := range b {
			limit := WordLimit(min(utf8.RuneCountInString(x), utf8.RuneCountInString(y)))
			if dist := Distance(x, y, limit+1); dist <= limit {
				d[i][j] = dist
			} else {
				d[i][j] = -1
			}
		}
	}
	best := -1
	used := make([]bool, len(b))
	var walk func(i, sum int)
	walk = func(i, sum int) {
		if best >= 0 && sum >= best {
			return
		}
		if i == len(a) {
			best = sum
			return
		}
		for j := range b {
			if !used[j] && d[i][j] >= 0 {
				used[j] = true
				walk(i+1, sum+d[i][j])
				used[j] = false
			}
		}
	}
	walk(0, 0)
	if best < 0 {
		return 0, 0, false
	}
	return best, len(b) - len(a), true
}
