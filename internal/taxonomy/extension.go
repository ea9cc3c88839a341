package taxonomy

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Extension holds a tenant's own terms. It has the same shape as the base
// data files: each field is keyed by the List name, so an extension file
// looks like
//
//	categories:
//	  - key: vehicle.vin
//	    name: Vehicle identification number
//	    description: The VIN of a car you registered with us.
//	    ccpa: [A]
//	purposes:
//	  - key: vehicle_recalls
//	    name: Vehicle recalls
//	    description: To tell you about safety recalls for your vehicle.
//
// Extensions may add terms to any list but may not redefine a base term.
// Purposes in an extension are commercial (kind may be omitted); the eight
// business purposes of 1798.140(e) are fixed.
type Extension struct {
	Categories         []Category   `yaml:"categories,omitempty"`
	SourceKinds        []Term       `yaml:"source_kinds,omitempty"`
	RecipientKinds     []Term       `yaml:"recipient_kinds,omitempty"`
	RecipientRoles     []Term       `yaml:"recipient_roles,omitempty"`
	DisclosureTypes    []Disclosure `yaml:"disclosure_types,omitempty"`
	Purposes           []Purpose    `yaml:"purposes,omitempty"`
	LegalBases         []Term       `yaml:"legal_bases,omitempty"`
	ConsentChoices     []Term       `yaml:"consent_choices,omitempty"`
	ConsentMechanisms  []Term       `yaml:"consent_mechanisms,omitempty"`
	ErasureReasons     []Term       `yaml:"erasure_reasons,omitempty"`
	TransferMechanisms []Term       `yaml:"transfer_mechanisms,omitempty"`
}

// LoadExtension decodes one YAML document into an Extension. Unknown
// fields are errors. The result is not validated against a taxonomy yet;
// WithExtension does that.
func LoadExtension(r io.Reader) (Extension, error) {
	var ext Extension
	if err := decodeStrict(r, &ext); err != nil {
		return Extension{}, fmt.Errorf("taxonomy extension: %w", err)
	}
	return ext, nil
}

// WithExtension returns a new Taxonomy in which tenant sees the base terms
// plus the terms of ext. It replaces any extension tenant had before; other
// tenants are unaffected, and t itself is not modified. ext is validated
// like the base files and must not redefine a base term; every problem is
// reported (errors.Join of *ValidationError).
func (t *Taxonomy) WithExtension(tenant string, ext Extension) (*Taxonomy, error) {
	src := fmt.Sprintf("extension for tenant %q", tenant)
	if strings.TrimSpace(tenant) == "" || strings.TrimSpace(tenant) != tenant {
		return nil, &ValidationError{File: src, Reason: "tenant must be non-empty and have no surrounding spaces"}
	}
	ext = ext.clone()
	for i := range ext.Purposes {
		if ext.Purposes[i].Kind == "" {
			ext.Purposes[i].Kind = CommercialPurpose
		}
	}
	v := validator{stat: t.stat, base: t.base, src: func(List) string { return src }}
	if errs := v.validate(ext); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	tenants := make(map[string]*vocab, len(t.tenants)+1)
	for k, vv := range t.tenants {
		tenants[k] = vv
	}
	tenants[tenant] = buildVocab(ext, t.stat)
	return &Taxonomy{stat: t.stat, base: t.base, tenants: tenants, words: t.words}, nil
}

// terms returns the entries of list l in their common Term shape.
func (e Extension) terms(l List) []Term {
	switch l {
	case Categories:
		return mapSlice(e.Categories, Category.term)
	case Purposes:
		return mapSlice(e.Purposes, Purpose.term)
	case DisclosureTypes:
		return mapSlice(e.DisclosureTypes, Disclosure.term)
	}
	if p := e.plain(l); p != nil {
		return *p
	}
	return nil
}

// plain returns the field holding a list of plain Terms, or nil.
func (e *Extension) plain(l List) *[]Term {
	switch l {
	case SourceKinds:
		return &e.SourceKinds
	case RecipientKinds:
		return &e.RecipientKinds
	case RecipientRoles:
		return &e.RecipientRoles
	case LegalBases:
		return &e.LegalBases
	case ConsentChoices:
		return &e.ConsentChoices
	case ConsentMechanisms:
		return &e.ConsentMechanisms
	case ErasureReasons:
		return &e.ErasureReasons
	case TransferMechanisms:
		return &e.TransferMechanisms
	}
	return nil
}

// merge appends the entries of o to e.
func (e *Extension) merge(o Extension) {
	e.Categories = append(e.Categories, o.Categories...)
	e.Purposes = append(e.Purposes, o.Purposes...)
	e.DisclosureTypes = append(e.DisclosureTypes, o.DisclosureTypes...)
	for _, l := range Lists() {
		if p := e.plain(l); p != nil {
			*p = append(*p, *o.plain(l)...)
		}
	}
}

// clone returns a deep copy, so that later changes by the caller to the
// slices it passed in cannot reach a built Taxonomy.
func (e Extension) clone() Extension {
	out := Extension{
		Categories:      slices.Clone(e.Categories),
		Purposes:        slices.Clone(e.Purposes),
		DisclosureTypes: slices.Clone(e.DisclosureTypes),
	}
	for i := range out.Categories {
		out.Categories[i] = out.Categories[i].clone()
	}
	for _, l := range Lists() {
		if p := out.plain(l); p != nil {
			*p = slices.Clone(*e.plain(l))
		}
	}
	return out
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// decodeStrict decodes exactly one YAML document into v, rejecting unknown
// fields. An empty document leaves v unchanged.
func decodeStrict(r io.Reader, v any) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return err
	default:
		return errors.New("more than one YAML document; expected exactly one")
	}
}
