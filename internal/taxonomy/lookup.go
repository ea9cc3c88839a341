package taxonomy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/custodyhq/custody/internal/spelling"
)

// layers returns the vocabularies tenant sees: the base, then its extension.
func (t *Taxonomy) layers(tenant string) []*vocab {
	if ext := t.tenants[tenant]; ext != nil {
		return []*vocab{t.base, ext}
	}
	return []*vocab{t.base}
}

// Lookup reports whether key is a term of list for tenant (base terms plus
// the tenant's extension). When it is not, suggestion is the term it most
// likely meant, or "" when none is likely:
//
//  1. the closest term by case-insensitive edit distance (Damerau, optimal
//     string alignment) if that distance is at most max(2, len(key)/4) —
//     unless a term with the same words, in any order, is fewer edits away
//     (step 2);
//  2. a term with the same words as key in any order, each word the same
//     or a typo of it (package spelling's WordLimit), after the synonyms
//     of synonyms.yaml are read as one word ("fulfil_order" suggests
//     "order_fulfilment", "geolocation.approximate" "geolocation.coarse");
//  3. the one term whose last dotted segment equals key's (so "passport"
//     suggests "government_id.passport");
//  4. the one term holding every word of key and the fewest others
//     ("payment" suggests "payment_processing"; when two terms are as
//     close, neither).
//
// Keys are case-sensitive: "Contact.Email" is not known, and suggests
// "contact.email".
func (t *Taxonomy) Lookup(tenant string, list List, key string) (known bool, suggestion string) {
	layers := t.layers(tenant)
	for _, v := range layers {
		if _, ok := v.terms[list][key]; ok {
			return true, ""
		}
	}
	return false, t.suggest(key, list, layers)
}

// Check is Lookup as an error: nil when key is a term of list for tenant,
// otherwise an error wrapping ErrUnknownTerm that names the list and
// carries the suggestion, if any.
func (t *Taxonomy) Check(tenant string, list List, key string) error {
	ok, s := t.Lookup(tenant, list, key)
	switch {
	case ok:
		return nil
	case !list.Valid():
		return fmt.Errorf("%w: %q: no such list %q", ErrUnknownTerm, key, list)
	case s != "":
		return fmt.Errorf("%w: %q is not in %s (did you mean %q?)", ErrUnknownTerm, key, list, s)
	default:
		return fmt.Errorf("%w: %q is not in %s", ErrUnknownTerm, key, list)
	}
}

// maxSuggestKey bounds the keys suggest compares word by word: longer
// ones are not near-misses of a term.
const maxSuggestKey = 256

func (t *Taxonomy) suggest(key string, list List, layers []*vocab) string {
	if key == "" || len(key) > maxSuggestKey {
		return ""
	}
	lk := strings.ToLower(key)
	limit := max(2, utf8.RuneCountInString(lk)/4)
	best, bestD := "", limit
	for _, v := range layers {
		for cand := range v.terms[list] {
			d := spelling.Distance(lk, strings.ToLower(cand), bestD+1)
			if d > bestD {
				continue
			}
			// Ties go to the smallest key, so the answer does not depend
			// on map order.
			if best == "" || d < bestD || cand < best {
				best, bestD = cand, d
			}
		}
	}
	// Word by word: the same words (reordered, synonyms, typos), or all of
	// key's words among more.
	words := t.words.words(lk)
	var same, more wordMatch
	for _, v := range layers {
		for cand := range v.terms[list] {
			cost, extra, ok := spelling.MatchWords(words, t.words.words(cand))
			switch {
			case !ok:
			case extra == 0:
				same.offer(cand, cost, 0)
			default:
				more.offer(cand, cost, extra)
			}
		}
	}
	if same.key != "" && !same.tied && (best == "" || same.cost < bestD) {
		return same.key
	}
	if best != "" {
		return best
	}
	// No near miss: try the last dotted segment ("email" -> "contact.email").
	seg := lastSegment(lk)
	var match string
	for _, v := range layers {
		for cand := range v.terms[list] {
			if lastSegment(strings.ToLower(cand)) == seg {
				if match != "" {
					return "" // ambiguous
				}
				match = cand
			}
		}
	}
	if match != "" {
		return match
	}
	if !more.tied {
		return more.key
	}
	return ""
}

// wordMatch keeps the best term matched word by word: fewest extra words,
// then fewest edits; tied when another term is as good.
type wordMatch struct {
	key         string
	cost, extra int
	tied        bool
}

func (m *wordMatch) offer(key string, cost, extra int) {
	switch {
	case m.key == "" || extra < m.extra || (extra == m.extra && cost < m.cost):
		*m = wordMatch{key: key, cost: cost, extra: extra}
	case extra == m.extra && cost == m.cost:
		m.tied = true
	}
}

func lastSegment(s string) string {
	return s[strings.LastIndexByte(s, '.')+1:]
}

// Terms returns the keys of list for tenant (base and extension), sorted.
func (t *Taxonomy) Terms(tenant string, list List) []string {
	var out []string
	for _, v := range t.layers(tenant) {
		out = slices.AppendSeq(out, maps.Keys(v.terms[list]))
	}
	slices.Sort(out)
	return out
}

// Term returns the common fields (key, name, description, reference) of
// any term of list for tenant.
func (t *Taxonomy) Term(tenant string, list List, key string) (Term, bool) {
	for _, v := range t.layers(tenant) {
		if term, ok := v.terms[list][key]; ok {
			return term, true
		}
	}
	return Term{}, false
}

// Category returns the data category key for tenant.
func (t *Taxonomy) Category(tenant, key string) (Category, bool) {
	for _, v := range t.layers(tenant) {
		if c, ok := v.categories[key]; ok {
			return c.clone(), true
		}
	}
	return Category{}, false
}

// Categories returns every data category tenant sees, sorted by key.
func (t *Taxonomy) Categories(tenant string) []Category {
	var out []Category
	for _, v := range t.layers(tenant) {
		for _, c := range v.categories {
			out = append(out, c.clone())
		}
	}
	slices.SortFunc(out, func(a, b Category) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Purpose returns the business or commercial purpose key for tenant.
func (t *Taxonomy) Purpose(tenant, key string) (Purpose, bool) {
	for _, v := range t.layers(tenant) {
		if p, ok := v.purposes[key]; ok {
			return p, true
		}
	}
	return Purpose{}, false
}

// Disclosure returns the disclosure type key for tenant.
func (t *Taxonomy) Disclosure(tenant, key string) (Disclosure, bool) {
	for _, v := range t.layers(tenant) {
		if d, ok := v.disclosures[key]; ok {
			return d, true
		}
	}
	return Disclosure{}, false
}

// SourceKind returns the source kind key (origin.kind) for tenant.
func (t *Taxonomy) SourceKind(tenant, key string) (Term, bool) {
	return t.Term(tenant, SourceKinds, key)
}

// RecipientKind returns the recipient kind key (recipient.kind) for tenant.
func (t *Taxonomy) RecipientKind(tenant, key string) (Term, bool) {
	return t.Term(tenant, RecipientKinds, key)
}

// RecipientRole returns the recipient role key (recipient.role) for tenant.
func (t *Taxonomy) RecipientRole(tenant, key string) (Term, bool) {
	return t.Term(tenant, RecipientRoles, key)
}

// LegalBasis returns the GDPR legal basis key for tenant.
func (t *Taxonomy) LegalBasis(tenant, key string) (Term, bool) {
	return t.Term(tenant, LegalBases, key)
}

// ConsentChoice returns the consent choice key for tenant.
func (t *Taxonomy) ConsentChoice(tenant, key string) (Term, bool) {
	return t.Term(tenant, ConsentChoices, key)
}

// ConsentMechanism returns the consent mechanism key for tenant.
func (t *Taxonomy) ConsentMechanism(tenant, key string) (Term, bool) {
	return t.Term(tenant, ConsentMechanisms, key)
}

// ErasureReason returns the erasure reason key for tenant.
func (t *Taxonomy) ErasureReason(tenant, key string) (Term, bool) {
	return t.Term(tenant, ErasureReasons, key)
}

// TransferMechanism returns the cross-border transfer mechanism key for tenant.
func (t *Taxonomy) TransferMechanism(tenant, key string) (Term, bool) {
	return t.Term(tenant, TransferMechanisms, key)
}

// Statutory returns the CCPA category of personal information with the
// given letter, "A" … "L".
func (t *Taxonomy) Statutory(letter string) (StatutoryCategory, bool) {
	return t.stat.category(letter)
}

// StatutoryCategories returns the CCPA categories (A)–(L) in letter order.
func (t *Taxonomy) StatutoryCategories() []StatutoryCategory {
	return slices.Clone(t.stat.categories)
}

// SensitiveClass returns the 1798.140(ae) clause with the given id, e.g. "(1)(A)".
func (t *Taxonomy) SensitiveClass(id string) (SensitiveClass, bool) {
	return t.stat.sensitiveClass(id)
}

// SensitiveClasses returns the 1798.140(ae) clauses in file order.
func (t *Taxonomy) SensitiveClasses() []SensitiveClass {
	return slices.Clone(t.stat.sensitive)
}

// NeverDisclose returns the 11 CCR 7024(d) list in file order.
func (t *Taxonomy) NeverDisclose() []NeverDiscloseItem {
	return slices.Clone(t.stat.neverDisclose)
}

// GDPRSpecial returns the GDPR Art. 9/10 special category with the given key.
func (t *Taxonomy) GDPRSpecial(key string) (GDPRSpecialClass, bool) {
	return t.stat.gdpr(key)
}

// Tenants returns the tenants that have an extension, sorted.
func (t *Taxonomy) Tenants() []string {
	return slices.Sorted(maps.Keys(t.tenants))
}
