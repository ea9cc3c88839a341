package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on identifier values, in bytes of UTF-8.
const (
	MaxValueLen     = 512 // ids of kinds other than email and phone
	MaxEmailLen     = 254 // RFC 5321 path limit
	MaxNamespaceLen = 128
)

// Error is a normalisation failure. Field names the part of the identifier at
// fault ("kind", "namespace" or "value"); Reason says why and what to do, and
// never contains the identifier's value.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string { return "identity: " + e.Field + ": " + e.Reason }

func valueErr(reason string) error { return &Error{Field: "value", Reason: reason} }

// NormalizeNamespace checks the namespace of an identifier of kind k and
// returns it trimmed and lower-cased. External identifiers need one (for
// example "salesforce" or "zendesk"); identifiers of every other kind must
// have none.
func NormalizeNamespace(k Kind, namespace string) (string, error) {
	if !k.Valid() {
		return "", &Error{Field: "kind", Reason: "unknown identifier kind"}
	}
	if !utf8.ValidString(namespace) {
		return "", &Error{Field: "namespace", Reason: "namespace is not valid UTF-8"}
	}
	ns := strings.ToLower(strings.TrimSpace(namespace))
	if !k.NeedsNamespace() {
		if ns != "" {
			return "", &Error{Field: "namespace", Reason: "namespace is only allowed with kind `external`; remove it"}
		}
		return "", nil
	}
	switch {
	case ns == "":
		return "", &Error{Field: "namespace", Reason: "kind `external` needs a namespace naming the system the id belongs to, e.g. `salesforce`"}
	case len(ns) > MaxNamespaceLen:
		return "", &Error{Field: "namespace", Reason: "namespace is longer than 128 bytes"}
	case strings.IndexFunc(ns, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "", &Error{Field: "namespace", Reason: "namespace must not contain spaces or control characters"}
	}
	return ns, nil
}

// Normalize checks an identifier and returns its value in the form Custody
// matches and hashes on:
//
//   - email: trimmed, lower-cased; one @ with a non-empty local part and
//     domain, no spaces, at most 254 bytes.
//   - phone: E.164. Spaces, dashes, dots and parentheses are removed and a
//     leading 00 becomes +; the result must be + and 8–15 digits. Numbers
//     without a country code are rejected: Custody does not guess countries
//     (NormalizeIn reads them in a default region the tenant configured).
//   - advertising_id (IDFA, GAID): a UUID, returned in lower-case hyphenated
//     form; the all-zero id (ad tracking limited) is rejected.
//   - every other kind: trimmed, non-empty, at most 512 bytes, no control
//     characters; case is kept.
//
// The namespace is checked with NormalizeNamespace. Errors are *Error and
// never contain the value. Normalize is idempotent.
func Normalize(k Kind, namespace, value string) (string, error) {
	if _, err := NormalizeNamespace(k, namespace); err != nil {
		return "", err
	}
	if !utf8.ValidString(value) {
		return "", valueErr("value is not valid UTF-8")
	}
	v := strings.TrimSpace(value)
	if v == "" {
		return "", valueErr("value must not be empty")
	}
	switch k {
	case Email:
		return normalizeEmail(v)
	case Phone:
		return normalizePhone(v)
	case AdvertisingID:
		return normalizeAdvertisingID(v)
	}
	if len(v) > MaxValueLen {
		return "", valueErr(string(k) + " is longer than 512 bytes")
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", valueErr(string(k) + " must not contain control characters")
	}
	return v, nil
}

func normalizeEmail(v string) (string, error) {
	v = strings.ToLower(v)
	if len(v) > MaxEmailLen {
		return "", valueErr("email address is longer than 254 bytes")
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", valueErr("email address must not contain spaces or control characters")
	}
	local, domain, ok := strings.Cut(v, "@")
	switch {
	case !ok:
		return "", valueErr("email address has no @")
	case strings.Contains(domain, "@"):
		return "", valueErr("email address has more than one @")
	case local == "":
		return "", valueErr("email address has an empty local part (before the @)")
	case domain == "":
		return "", valueErr("email address has an empty domain (after the @)")
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", valueErr("email address has a malformed domain")
	}
	return v, nil
}

// phoneFormatHint is the error for a phone without a country code.
var phoneFormatHint = "phone is not in E.164 international format: start with + (or 00) and the country code, e.g. +14155550100; " +
	"a number without a country code is accepted only for a tenant with a default phone region " +
	"(tenants.<tenant>.default_phone_region in the configuration: " + strings.Join(PhoneRegions(), ", ") + ")"

func normalizePhone(v string) (string, error) {
	p := stripPhoneSeparators(v)
	if strings.HasPrefix(p, "00") {
		p = "+" + p[2:]
	}
	if !strings.HasPrefix(p, "+") {
		return "", valueErr(phoneFormatHint)
	}
	digits := p[1:]
	if strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return "", valueErr("phone may contain only digits after the +, besides spaces, dashes, dots and parentheses")
	}
	if len(digits) < 8 || len(digits) > 15 {
		return "", valueErr("phone must have 8 to 15 digits including the country code (E.164)")
	}
	if digits[0] == '0' {
		return "", valueErr(phoneFormatHint)
	}
	return p, nil
}

// stripPhoneSeparators removes the spaces, dashes, dots and parentheses
// people write phone numbers with.
func stripPhoneSeparators(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch {
		case unicode.IsSpace(r), r == '-', r == '.', r == '(', r == ')':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func normalizeAdvertisingID(v string) (string, error) {
	if len(v) > 64 {
		return "", valueErr("advertising_id must be a UUID (IDFA or GAID)")
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return "", valueErr("advertising_id must be a UUID (IDFA or GAID)")
	}
	if id == uuid.Nil {
		return "", valueErr("advertising_id is all zeros (ad tracking limited); it identifies no one, leave it out")
	}
	return id.String(), nil
}
