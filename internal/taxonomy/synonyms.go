package taxonomy

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"

	"github.com/custodyhq/custody/internal/spelling"
)

// SynonymsFile is the name of the file of synonyms for suggestions.
const SynonymsFile = "synonyms.yaml"

// synonymsFile is the shape of synonyms.yaml: groups of words that mean
// the same in a key, the first of each the one the others are read as.
type synonymsFile struct {
	Synonyms [][]string `yaml:"synonyms"`
}

// synonyms maps a word to the first word of its group; words of no group
// are not in it.
type synonyms map[string]string

var synonymWord = regexp.MustCompile(`^[a-z0-9]+$`)

// loadSynonyms reads synonyms.yaml and checks its words.
func loadSynonyms(fsys fs.FS) (synonyms, []error) {
	data, err := fs.ReadFile(fsys, SynonymsFile)
	if err != nil {
		return nil, []error{&ValidationError{File: SynonymsFile, Reason: "cannot read file", Err: err}}
	}
	var doc synonymsFile
	if err := decodeStrict(bytes.NewReader(data), &doc); err != nil {
		return nil, []error{&ValidationError{File: SynonymsFile, Reason: "invalid YAML", Err: err}}
	}
	var errs []error
	bad := func(i int, format string, args ...any) {
		errs = append(errs, &ValidationError{File: SynonymsFile, List: "synonyms", Key: fmt.Sprintf("#%d", i+1), Reason: fmt.Sprintf(format, args...)})
	}
	syn := synonyms{}
	for i, group := range doc.Synonyms {
		if len(group) < 2 {
			bad(i, "a group needs at least two words")
		}
		for _, w := range group {
			switch {
			case !synonymWord.MatchString(w):
				bad(i, "%q is not one lowercase word (a-z, 0-9)", w)
			case syn[w] != "":
				bad(i, "%q is already in a group (as %q)", w, syn[w])
			default:
				syn[w] = group[0]
			}
		}
	}
	return syn, errs
}

// unused reports the groups none of whose words is a word of a key of v:
// they could never help a suggestion.
func (s synonyms) unused(v *vocab) []error {
	inKeys := map[string]bool{}
	for _, terms := range v.terms {
		for key := range terms {
			for _, w := range spelling.Words(key) {
				inKeys[w] = true
			}
		}
	}
	used := map[string]bool{} // first words of groups with a word in a key
	for w, first := range s {
		if inKeys[w] {
			used[first] = true
		}
	}
	var errs []error
	for _, first := range slices.Sorted(maps.Values(s)) {
		if !used[first] {
			used[first] = true // once per group
			errs = append(errs, &ValidationError{File: SynonymsFile, List: "synonyms", Key: first,
				Reason: "no word of the group is a word of a key: it would never help a suggestion"})
		}
	}
	return errs
}

// words returns key's words, lower-cased, each replaced by the first of
// its group.
func (s synonyms) words(key string) []string {
	ws := spelling.Words(key)
	for i, w := range ws {
		if first, ok := s[w]; ok {
			ws[i] = first
		}
	}
	return ws
}
