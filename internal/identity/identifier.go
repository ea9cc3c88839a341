package identity

import (
	"fmt"
	"log/slog"
)

// Identifier is one identifier of a data subject as sent in an event. Value is
// personal data: Identifier prints and logs only its kind and namespace.
type Identifier struct {
	Kind      Kind   `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Value     string `json:"value"`
}

// Normalized returns id with its namespace and value normalised (see
// Normalize and NormalizeNamespace).
func (id Identifier) Normalized() (Identifier, error) {
	ns, err := NormalizeNamespace(id.Kind, id.Namespace)
	if err != nil {
		return Identifier{}, err
	}
	v, err := Normalize(id.Kind, ns, id.Value)
	if err != nil {
		return Identifier{}, err
	}
	return Identifier{Kind: id.Kind, Namespace: ns, Value: v}, nil
}

// String returns the kind (and namespace) with the value redacted, e.g.
// "email:[redacted]" or "external(salesforce):[redacted]".
func (id Identifier) String() string {
	if id.Namespace != "" {
		return fmt.Sprintf("%s(%s):[redacted]", id.Kind, id.Namespace)
	}
	return string(id.Kind) + ":[redacted]"
}

// Format makes every fmt verb, %#v and %d included, print String.
func (id Identifier) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(id.String())) }

// LogValue implements slog.LogValuer: kind and namespace, value redacted.
func (id Identifier) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", string(id.Kind))}
	if id.Namespace != "" {
		attrs = append(attrs, slog.String("namespace", id.Namespace))
	}
	return slog.GroupValue(append(attrs, slog.String("value", "[redacted]"))...)
}
