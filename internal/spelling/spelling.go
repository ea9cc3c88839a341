// Package spelling measures how far apart two words are, for "did you mean"
// suggestions in error messages (unknown fields, unknown taxonomy terms).
// Callers choose their own candidates and thresholds.
package spelling

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
