package identity

import (
	"fmt"
	"strings"
)

// Parse reads an identifier written as kind:value, or
// external:namespace:value, as people type it on a command line or in a
// query ("email:jane@example.com", "external:crm:C-1009"). The value is
// normalised; errors name the part that is wrong.
func Parse(s string) (Identifier, error) { return ParseIn(s, "") }

// ParseIn is Parse with a default phone region for phone numbers written
// without a country code (see NormalizeIn; "" means none).
func ParseIn(s, region string) (Identifier, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || kind == "" {
		return Identifier{}, &Error{Field: "identifier", Reason: fmt.Sprintf("%q: want kind:value, e.g. email:jane@example.com", s)}
	}
	id := Identifier{Kind: Kind(kind), Value: rest}
	if !id.Kind.Valid() {
		return Identifier{}, &Error{Field: "kind", Reason: fmt.Sprintf("unknown identifier kind %q (known: %s)", kind, kindList())}
	}
	if id.Kind.NeedsNamespace() {
		ns, value, ok := strings.Cut(rest, ":")
		if !ok {
			return Identifier{}, &Error{Field: "namespace", Reason: fmt.Sprintf("%q: external identifiers are written external:namespace:value", s)}
		}
		id.Namespace, id.Value = ns, value
	}
	return id.NormalizedIn(region)
}

func kindList() string {
	ks := Kinds()
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return strings.Join(out, ", ")
}
