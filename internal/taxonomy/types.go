package taxonomy

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Term is the common shape of every vocabulary entry: a stable key, a short
// human name and a plain-language description printed in reports.
// Reference is an optional legal citation (e.g. "GDPR Art. 6(1)(a)").
type Term struct {
	Key         string `yaml:"key"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Reference   string `yaml:"reference,omitempty"`
}

// Category is a data category (List Categories), e.g. contact.email.
type Category struct {
	Key         string
	Name        string
	Description string
	// CCPA holds the Cal. Civ. Code 1798.140(v)(1) letters A–K the category
	// falls under. Letter L (sensitive personal information) is implied by
	// Sensitive and never listed here; see Letters.
	CCPA []string
	// Sensitive is the 1798.140(ae) clause id, e.g. "(1)(A)", or "".
	Sensitive string
	// NeverDisclose is true when 11 CCR 7024(d) forbids showing the value
	// in a response to a request to know; reports name it instead.
	NeverDisclose bool
	// GDPRSpecial is the GDPR Art. 9/10 class key (e.g. "health"), or "".
	GDPRSpecial string

	// statutory holds the resolved statutory categories of Letters(),
	// filled in by the Taxonomy that returned the Category.
	statutory []StatutoryCategory
}

// Letters returns the CCPA letters of the category in alphabetical order,
// including "L" when the category is sensitive personal information.
func (c Category) Letters() []string {
	out := slices.Clone(c.CCPA)
	if c.Sensitive != "" && !slices.Contains(out, "L") {
		out = append(out, "L")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// StatutoryCategories returns the statutory CCPA categories of Letters(),
// in letter order. It is empty for a Category that was not obtained from a
// Taxonomy.
func (c Category) StatutoryCategories() []StatutoryCategory {
	return slices.Clone(c.statutory)
}

// StatutoryNames returns the exact statutory names of the category's CCPA
// categories (e.g. "Identifiers", "Sensitive personal information"), in
// letter order, as reports print them. It is empty for a Category that was
// not obtained from a Taxonomy.
func (c Category) StatutoryNames() []string {
	out := make([]string, len(c.statutory))
	for i, s := range c.statutory {
		out[i] = s.Name
	}
	return out
}

func (c Category) term() Term {
	return Term{Key: c.Key, Name: c.Name, Description: c.Description}
}

func (c Category) clone() Category {
	c.CCPA = slices.Clone(c.CCPA)
	c.statutory = slices.Clone(c.statutory)
	return c
}

// categoryFields returns the YAML keys a category may have.
func categoryFields() []string {
	return []string{"key", "name", "description", "ccpa", "sensitive", "never_disclose", "gdpr_special"}
}

// UnmarshalYAML decodes a category strictly (unknown fields are errors) and
// accepts ccpa either as a list ([A, B]) or as a single letter (A). Field
// problems are returned as a *yaml.TypeError so that the decoder goes on
// and reports the problems of the other categories too.
func (c *Category) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a category must be a mapping", n.Line)}}
	}
	var problems []string
	fields := categoryFields()
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(fields, k.Value) {
			problems = append(problems, fmt.Sprintf("line %d: field %q is not a category field (want one of %v)", k.Line, k.Value, fields))
		}
	}
	var raw struct {
		Key           string    `yaml:"key"`
		Name          string    `yaml:"name"`
		Description   string    `yaml:"description"`
		CCPA          yaml.Node `yaml:"ccpa"`
		Sensitive     string    `yaml:"sensitive"`
		NeverDisclose bool      `yaml:"never_disclose"`
		GDPRSpecial   string    `yaml:"gdpr_special"`
	}
	if err := n.Decode(&raw); err != nil {
		return err
	}
	var ccpa []string
	switch raw.CCPA.Kind {
	case 0: // absent
	case yaml.ScalarNode:
		if raw.CCPA.Tag != "!!null" {
			ccpa = []string{raw.CCPA.Value}
		}
	case yaml.SequenceNode:
		if err := raw.CCPA.Decode(&ccpa); err != nil {
			return err
		}
	default:
		problems = append(problems, fmt.Sprintf("line %d: ccpa must be a letter or a list of letters", raw.CCPA.Line))
	}
	*c = Category{
		Key:           raw.Key,
		Name:          raw.Name,
		Description:   raw.Description,
		CCPA:          ccpa,
		Sensitive:     raw.Sensitive,
		NeverDisclose: raw.NeverDisclose,
		GDPRSpecial:   raw.GDPRSpecial,
	}
	if len(problems) > 0 {
		return &yaml.TypeError{Errors: problems}
	}
	return nil
}

// MarshalYAML writes a category in the same shape UnmarshalYAML reads.
func (c Category) MarshalYAML() (any, error) {
	return struct {
		Key           string   `yaml:"key"`
		Name          string   `yaml:"name"`
		Description   string   `yaml:"description"`
		CCPA          []string `yaml:"ccpa,omitempty,flow"`
		Sensitive     string   `yaml:"sensitive,omitempty"`
		NeverDisclose bool     `yaml:"never_disclose,omitempty"`
		GDPRSpecial   string   `yaml:"gdpr_special,omitempty"`
	}{c.Key, c.Name, c.Description, c.CCPA, c.Sensitive, c.NeverDisclose, c.GDPRSpecial}, nil
}

// PurposeKind says whether a purpose is one of the statutory business
// purposes or a commercial purpose.
type PurposeKind string

const (
	// BusinessPurpose is one of the eight purposes of Cal. Civ. Code 1798.140(e).
	BusinessPurpose PurposeKind = "business"
	// CommercialPurpose is any other purpose.
	CommercialPurpose PurposeKind = "commercial"
)

// Purpose is a business or commercial purpose (List Purposes).
type Purpose struct {
	Key         string      `yaml:"key"`
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Kind        PurposeKind `yaml:"kind"`
	// Statutory cites the business purpose, e.g. "1798.140(e)(2)"; set
	// only for Kind == BusinessPurpose.
	Statutory string `yaml:"statutory,omitempty"`
	// BusinessPurpose optionally names the business purpose (a key such as
	// "bp.performing_services") a commercial purpose falls under.
	BusinessPurpose string `yaml:"business_purpose,omitempty"`
}

func (p Purpose) term() Term {
	return Term{Key: p.Key, Name: p.Name, Description: p.Description, Reference: p.Statutory}
}

// Disclosure is a disclosure type (List DisclosureTypes).
type Disclosure struct {
	Key         string `yaml:"key"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Reference   string `yaml:"reference,omitempty"`
	// SoldOrShared is true for sale and sharing: reports list those apart
	// from disclosures for a business purpose.
	SoldOrShared bool `yaml:"sold_or_shared"`
}

func (d Disclosure) term() Term {
	return Term{Key: d.Key, Name: d.Name, Description: d.Description, Reference: d.Reference}
}

// StatutoryCategory is one of the categories of personal information of
// Cal. Civ. Code 1798.140(v)(1)(A)–(L).
type StatutoryCategory struct {
	// Letter is "A" … "L".
	Letter string `yaml:"letter"`
	// Name is the exact statutory name, printed verbatim in reports.
	Name string `yaml:"name"`
	// Detail is the parenthetical the spec gives after the name, or "".
	Detail string `yaml:"detail,omitempty"`
	// Description is a plain-language gloss.
	Description string `yaml:"description"`
}

// Text returns the long form "Name (Detail)", or Name when there is no Detail.
func (s StatutoryCategory) Text() string {
	if s.Detail == "" {
		return s.Name
	}
	return s.Name + " (" + s.Detail + ")"
}

// SensitiveClass is a clause of Cal. Civ. Code 1798.140(ae).
type SensitiveClass struct {
	// ID is the clause within (ae), e.g. "(1)(A)".
	ID string `yaml:"id"`
	// Text is the statutory wording, verbatim.
	Text        string `yaml:"text"`
	Description string `yaml:"description"`
}

// Citation returns the full citation, e.g. "Cal. Civ. Code 1798.140(ae)(1)(A)".
func (s SensitiveClass) Citation() string {
	return "Cal. Civ. Code 1798.140(ae)" + s.ID
}

// NeverDiscloseItem is an entry of the 11 CCR 7024(d) list of information
// never disclosed in a response to a request to know.
type NeverDiscloseItem struct {
	Key         string `yaml:"key"`
	Text        string `yaml:"text"`
	Description string `yaml:"description"`
}

// GDPRSpecialClass is a GDPR Art. 9(1) special category or the Art. 10
// class of criminal convictions and offences.
type GDPRSpecialClass struct {
	Key         string `yaml:"key"`
	Article     string `yaml:"article"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}
