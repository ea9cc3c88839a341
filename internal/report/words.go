package report

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/requests"
)

// requestInfo is what the report says about the request it answers.
func requestInfo(req *requests.Request) *RequestInfo {
	info := &RequestInfo{
		ID: req.ID, Type: Term{Key: string(req.Type), Name: req.Type.Name()}, ReceivedAt: req.ReceivedAt.UTC(),
		Channel: string(req.Channel), Agent: req.Agent, Sought: string(req.Sought), Downgraded: req.Downgraded(),
	}
	if v := req.Verification; v != nil {
		info.Verification = Verification{Method: v.Method, Level: string(v.Level)}
	}
	return info
}

// scopeNote explains why the information itself is not shown.
func scopeNote(req *requests.Request, scope requests.Level) string {
	switch {
	case scope == requests.LevelSpecificPieces:
		return ""
	case req != nil && req.Downgraded():
		return "You asked for the specific pieces of personal information we hold about you. We could not verify your identity " +
			"to the higher standard the law requires before we may show them (11 CCR 7062(c)), so this report lists the " +
			"categories of information only (11 CCR 7024(a))."
	case req != nil:
		return "You asked for the categories of personal information we hold about you, so this report does not show the information itself."
	}
	return "This report lists categories of personal information only, not the information itself."
}

// identifierKinds returns the distinct kinds of ids, in identity.Kinds order.
func identifierKinds(ids []identity.Ref) []Term {
	out := []Term{}
	for _, k := range identity.Kinds() {
		if slices.ContainsFunc(ids, func(r identity.Ref) bool { return r.Kind == k }) {
			out = append(out, Term{Key: string(k), Name: identifierKindName(k)})
		}
	}
	return out
}

func identifierKindName(k identity.Kind) string {
	switch k {
	case identity.Email:
		return "Email address"
	case identity.Phone:
		return "Telephone number"
	case identity.UserID:
		return "User ID"
	case identity.CustomerID:
		return "Customer number"
	case identity.AccountID:
		return "Account number"
	case identity.DeviceID:
		return "Device identifier"
	case identity.CookieID:
		return "Cookie identifier"
	case identity.AdvertisingID:
		return "Advertising identifier"
	case identity.External:
		return "Identifier in another system"
	}
	return string(k)
}

func sourceRefs(ss []projections.Source) []SourceRef {
	out := make([]SourceRef, 0, len(ss))
	for _, s := range ss {
		out = append(out, SourceRef{Kind: s.Kind, Name: s.Name})
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return []string{}
	}
	return slices.Sorted(maps.Keys(m))
}

// lowerFirst lower-cases the first letter of a category name for use in a
// sentence ("Payment card number" → "payment card number"), unless another
// word of it is capitalised too, which marks a proper name ("Social
// Security number", "State ID number").
func lowerFirst(s string) string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return s
	}
	for _, w := range words[1:] {
		if r := []rune(w); len(r) > 0 && r[0] >= 'A' && r[0] <= 'Z' {
			return s
		}
	}
	return strings.ToLower(s[:1]) + s[1:]
}
