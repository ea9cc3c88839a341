package identity

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// A default phone region lets a tenant send phone numbers as its customers
// write them at home ("(415) 555-0100", "020 7946 0958"): a number with
// neither + nor 00 and a country code is read as a national number of the
// region and turned into E.164. Only regions whose national format this
// package knows are supported; each is checked for its length and leading
// digits, so a number that is not plausibly national is still refused
// rather than guessed.
//
//   - US, CA (North American Numbering Plan, +1): ten digits, area code and
//     exchange each starting 2–9, optionally after the trunk prefix 1
//     ("1 415 555 0100"); 011 is the international prefix ("011 44 20 …").
//   - GB (+44): the trunk prefix 0 and the national significant number of
//     9 or 10 digits ("020 7946 0958", "07700 900123").
type phoneRegion struct {
	callingCode string
	// national returns the national significant number of digits (the
	// number without + and calling code), false when digits is not a
	// plausible national number of the region.
	national func(digits string) (string, bool)
	// idd is the international call prefix other than 00 (read as + like
	// 00 is everywhere), "" when none.
	idd string
}

var phoneRegions = map[string]phoneRegion{
	"US": nanp, "CA": nanp,
	"GB": {callingCode: "44", national: func(d string) (string, bool) {
		n, trunk := strings.CutPrefix(d, "0")
		return n, trunk && len(n) >= 9 && len(n) <= 10 && n[0] != '0'
	}},
}

var nanp = phoneRegion{callingCode: "1", idd: "011", national: func(d string) (string, bool) {
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	return d, len(d) == 10 && d[0] >= '2' && d[3] >= '2'
}}

// PhoneRegions returns the default phone regions this package supports, as
// upper-case ISO 3166-1 alpha-2 codes, sorted.
func PhoneRegions() []string {
	out := make([]string, 0, len(phoneRegions))
	for code := range phoneRegions {
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}

// KnownPhoneRegion reports whether region (an ISO 3166-1 alpha-2 code, any
// case) is a default phone region this package supports.
func KnownPhoneRegion(region string) bool {
	_, ok := phoneRegions[strings.ToUpper(region)]
	return ok
}

// NormalizeIn is Normalize with a default phone region for phone numbers
// written without a country code (region "" means none: such numbers are
// refused, as by Normalize). The region is one of PhoneRegions, any case;
// an unknown one is an error on field "region". Other kinds ignore it.
func NormalizeIn(k Kind, namespace, value, region string) (string, error) {
	if k != Phone || region == "" {
		return Normalize(k, namespace, value)
	}
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
	return normalizePhoneIn(v, region)
}

// NormalizedIn is Normalized with a default phone region (see NormalizeIn).
func (id Identifier) NormalizedIn(region string) (Identifier, error) {
	if id.Kind != Phone || region == "" {
		return id.Normalized()
	}
	v, err := NormalizeIn(id.Kind, id.Namespace, id.Value, region)
	if err != nil {
		return Identifier{}, err
	}
	return Identifier{Kind: id.Kind, Value: v}, nil
}

func normalizePhoneIn(v, region string) (string, error) {
	r, ok := phoneRegions[strings.ToUpper(region)]
	if !ok {
		return "", &Error{Field: "region", Reason: "unknown default phone region; supported: " + strings.Join(PhoneRegions(), ", ")}
	}
	p := stripPhoneSeparators(v)
	if strings.HasPrefix(p, "+") || strings.HasPrefix(p, "00") {
		return normalizePhone(v)
	}
	if r.idd != "" && strings.HasPrefix(p, r.idd) {
		return normalizePhone("+" + p[len(r.idd):])
	}
	if strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return "", valueErr("phone may contain only digits, besides a leading +, spaces, dashes, dots and parentheses")
	}
	nsn, ok := r.national(p)
	if !ok {
		return "", valueErr("phone has no country code and is not a national number of the default region " + strings.ToUpper(region) +
			"; write it in E.164 international format, starting with + and the country code")
	}
	return normalizePhone("+" + r.callingCode + nsn)
}
