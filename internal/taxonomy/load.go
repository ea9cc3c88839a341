package taxonomy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Taxonomy is a loaded, validated taxonomy: the base vocabularies, the
// statutory reference lists and any tenant extensions. It is immutable and
// safe for concurrent use; build one with Load and derive tenant views with
// WithExtension.
type Taxonomy struct {
	stat    *statutory
	base    *vocab
	tenants map[string]*vocab // tenant -> that tenant's extension terms only
	words   synonyms          // of synonyms.yaml, for suggestions
}

// statutory holds the reference lists of statutory.yaml.
type statutory struct {
	categories    []StatutoryCategory // in letter order
	sensitive     []SensitiveClass
	neverDisclose []NeverDiscloseItem
	gdprSpecial   []GDPRSpecialClass
}

// statutoryFile is the shape of statutory.yaml.
type statutoryFile struct {
	CCPACategories   []StatutoryCategory `yaml:"ccpa_categories"`
	SensitiveClasses []SensitiveClass    `yaml:"sensitive_classes"`
	NeverDisclose    []NeverDiscloseItem `yaml:"never_disclose"`
	GDPRSpecial      []GDPRSpecialClass  `yaml:"gdpr_special"`
}

// StatutoryFile is the name of the file holding the statutory lists.
const StatutoryFile = "statutory.yaml"

// dataFile names a vocabulary file and the lists it holds.
type dataFile struct {
	name  string
	lists []List
}

// dataFiles returns the vocabulary files Load reads, besides StatutoryFile.
func dataFiles() []dataFile {
	return []dataFile{
		{"categories.yaml", []List{Categories}},
		{"sources.yaml", []List{SourceKinds}},
		{"recipients.yaml", []List{RecipientKinds, RecipientRoles}},
		{"disclosures.yaml", []List{DisclosureTypes}},
		{"purposes.yaml", []List{Purposes}},
		{"legal_bases.yaml", []List{LegalBases}},
		{"consent.yaml", []List{ConsentChoices, ConsentMechanisms}},
		{"erasure.yaml", []List{ErasureReasons}},
		{"transfers.yaml", []List{TransferMechanisms}},
	}
}

// FileOf returns the data file that holds list l in the base taxonomy, or
// "" for an unknown list.
func FileOf(l List) string {
	for _, f := range dataFiles() {
		if slices.Contains(f.lists, l) {
			return f.name
		}
	}
	return ""
}

// Load reads the taxonomy files from the root of fsys (normally
// schema.Taxonomy()), validates them and returns the taxonomy. It reports
// every problem it finds, not just the first: the error is an errors.Join
// of *ValidationError values, each naming the file and the term key.
func Load(fsys fs.FS) (*Taxonomy, error) {
	var errs []error

	stat, statErrs := loadStatutory(fsys)
	errs = append(errs, statErrs...)

	var base Extension
	origin := map[List]string{}
	broken := map[List]bool{} // lists whose file could not be read
	for _, f := range dataFiles() {
		for _, l := range f.lists {
			origin[l] = f.name
		}
		data, err := fs.ReadFile(fsys, f.name)
		if err != nil {
			errs = append(errs, &ValidationError{File: f.name, Reason: "cannot read file", Err: err})
			markBroken(broken, f.lists)
			continue
		}
		var doc Extension
		if err := decodeStrict(bytes.NewReader(data), &doc); err != nil {
			errs = append(errs, &ValidationError{File: f.name, Reason: "invalid YAML", Err: err})
			markBroken(broken, f.lists)
			continue
		}
		for _, l := range Lists() {
			if len(doc.terms(l)) > 0 && !slices.Contains(f.lists, l) {
				errs = append(errs, &ValidationError{File: f.name, List: string(l),
					Reason: fmt.Sprintf("list %s belongs in %s", l, FileOf(l))})
			}
		}
		base.merge(doc)
	}
	errs = append(errs, unknownFiles(fsys)...)
	words, wordErrs := loadSynonyms(fsys)
	errs = append(errs, wordErrs...)

	v := validator{stat: stat, src: func(l List) string { return origin[l] }, broken: broken}
	errs = append(errs, v.validate(base)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	bv := buildVocab(base, stat)
	if errs := words.unused(bv); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Taxonomy{stat: stat, base: bv, tenants: map[string]*vocab{}, words: words}, nil
}

func markBroken(broken map[List]bool, lists []List) {
	for _, l := range lists {
		broken[l] = true
	}
}

// loadStatutory reads and validates statutory.yaml. It returns nil
// statutory lists when the file cannot be decoded, so that cross-reference
// checks against it are skipped rather than reported once per term.
func loadStatutory(fsys fs.FS) (*statutory, []error) {
	data, err := fs.ReadFile(fsys, StatutoryFile)
	if err != nil {
		return nil, []error{&ValidationError{File: StatutoryFile, Reason: "cannot read file", Err: err}}
	}
	var doc statutoryFile
	if err := decodeStrict(bytes.NewReader(data), &doc); err != nil {
		return nil, []error{&ValidationError{File: StatutoryFile, Reason: "invalid YAML", Err: err}}
	}
	errs := validateStatutory(doc)
	st := &statutory{
		categories:    slices.Clone(doc.CCPACategories),
		sensitive:     doc.SensitiveClasses,
		neverDisclose: doc.NeverDisclose,
		gdprSpecial:   doc.GDPRSpecial,
	}
	slices.SortStableFunc(st.categories, func(a, b StatutoryCategory) int { return strings.Compare(a.Letter, b.Letter) })
	return st, errs
}

// unknownFiles reports YAML files in the root of fsys that Load would not
// read, so that data is never silently ignored.
func unknownFiles(fsys fs.FS) []error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return []error{&ValidationError{File: ".", Reason: "cannot list directory", Err: err}}
	}
	known := []string{StatutoryFile, SynonymsFile}
	for _, f := range dataFiles() {
		known = append(known, f.name)
	}
	var errs []error
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || slices.Contains(known, e.Name()) {
			continue
		}
		errs = append(errs, &ValidationError{File: e.Name(),
			Reason: fmt.Sprintf("unknown taxonomy file; expected only %s", strings.Join(known, ", "))})
	}
	return errs
}

// vocab is one layer of terms: the base, or one tenant's extension.
type vocab struct {
	categories  map[string]Category
	purposes    map[string]Purpose
	disclosures map[string]Disclosure
	terms       map[List]map[string]Term
}

// buildVocab indexes a validated Extension. Categories get their statutory
// categories resolved from st.
func buildVocab(ext Extension, st *statutory) *vocab {
	v := &vocab{
		categories:  make(map[string]Category, len(ext.Categories)),
		purposes:    make(map[string]Purpose, len(ext.Purposes)),
		disclosures: make(map[string]Disclosure, len(ext.DisclosureTypes)),
		terms:       make(map[List]map[string]Term, len(Lists())),
	}
	for _, l := range Lists() {
		ts := ext.terms(l)
		m := make(map[string]Term, len(ts))
		for _, t := range ts {
			m[t.Key] = t
		}
		v.terms[l] = m
	}
	for _, c := range ext.Categories {
		c = c.clone()
		for _, letter := range c.Letters() {
			if s, ok := st.category(letter); ok {
				c.statutory = append(c.statutory, s)
			}
		}
		v.categories[c.Key] = c
	}
	for _, p := range ext.Purposes {
		v.purposes[p.Key] = p
	}
	for _, d := range ext.DisclosureTypes {
		v.disclosures[d.Key] = d
	}
	return v
}

func (s *statutory) category(letter string) (StatutoryCategory, bool) {
	if s == nil {
		return StatutoryCategory{}, false
	}
	for _, c := range s.categories {
		if c.Letter == letter {
			return c, true
		}
	}
	return StatutoryCategory{}, false
}

func (s *statutory) sensitiveClass(id string) (SensitiveClass, bool) {
	if s == nil {
		return SensitiveClass{}, false
	}
	for _, c := range s.sensitive {
		if c.ID == id {
			return c, true
		}
	}
	return SensitiveClass{}, false
}

func (s *statutory) gdpr(key string) (GDPRSpecialClass, bool) {
	if s == nil {
		return GDPRSpecialClass{}, false
	}
	for _, c := range s.gdprSpecial {
		if c.Key == key {
			return c, true
		}
	}
	return GDPRSpecialClass{}, false
}
