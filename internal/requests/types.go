package requests

import (
	"slices"
	"strings"
)

// Type is what a request asks for. The keys are those of event.Request.Kind.
type Type string

// Request types.
const (
	TypeKnow    Type = "know"    // right to know (Cal. Civ. Code 1798.110, 1798.115)
	TypeAccess  Type = "access"  // right of access (GDPR Art. 15; US state laws)
	TypeDelete  Type = "delete"  // deletion or erasure (1798.105; GDPR Art. 17)
	TypeCorrect Type = "correct" // correction or rectification (1798.106; GDPR Art. 16)
	TypeOptOut  Type = "opt_out" // opt-out of sale or sharing (1798.120); objection (GDPR Art. 21)
	TypeLimit   Type = "limit"   // limit use of sensitive PI (1798.121); restriction (GDPR Art. 18)
)

// Types returns every request type in a stable order.
func Types() []Type {
	return []Type{TypeKnow, TypeAccess, TypeDelete, TypeCorrect, TypeOptOut, TypeLimit}
}

// Name returns the plain-language name of the type, e.g. "request to know".
func (t Type) Name() string {
	switch t {
	case TypeKnow:
		return "request to know"
	case TypeAccess:
		return "request for access"
	case TypeDelete:
		return "request to delete"
	case TypeCorrect:
		return "request to correct"
	case TypeOptOut:
		return "request to opt out"
	case TypeLimit:
		return "request to limit the use of sensitive personal information"
	}
	return string(t)
}

// Discloses reports whether answering the request means giving the person
// their information (a report): requests to know and for access.
func (t Type) Discloses() bool { return t == TypeKnow || t == TypeAccess }

// NeedsVerification reports whether the person's identity must be verified
// before the request is answered. Opt-outs and requests to limit need none:
// they are not verifiable consumer requests (11 CCR 7026, 7027).
func (t Type) NeedsVerification() bool { return t != TypeOptOut && t != TypeLimit }

// Channel is how a request reached the business (11 CCR 7101(b)).
type Channel string

// Channels.
const (
	ChannelWebForm      Channel = "web_form"
	ChannelEmail        Channel = "email"
	ChannelTollFree     Channel = "toll_free"
	ChannelPhone        Channel = "phone"
	ChannelMail         Channel = "mail"
	ChannelInPerson     Channel = "in_person"
	ChannelApp          Channel = "app"
	ChannelOptOutSignal Channel = "opt_out_signal" // e.g. Global Privacy Control
)

// Channels returns every channel in a stable order.
func Channels() []Channel {
	return []Channel{ChannelWebForm, ChannelEmail, ChannelTollFree, ChannelPhone, ChannelMail, ChannelInPerson, ChannelApp, ChannelOptOutSignal}
}

// State is where a request is in its lifecycle:
//
//	open → confirmed → verified → completed | denied → appealed → completed | denied
//
// Confirming is skipped when the request is verified or answered first, and
// requests that need no verification (opt-out, limit) go from open or
// confirmed straight to completed. An extension is not a state: it can be
// granted once at any point before the answer (Request.Extension).
type State string

// States.
const (
	StateOpen      State = "open"
	StateConfirmed State = "confirmed"
	StateVerified  State = "verified"
	StateCompleted State = "completed"
	StateDenied    State = "denied"
	StateAppealed  State = "appealed"
)

// States returns every state in lifecycle order.
func States() []State {
	return []State{StateOpen, StateConfirmed, StateVerified, StateCompleted, StateDenied, StateAppealed}
}

// Level is how far a person's identity was verified, and so what a request
// to know may disclose (11 CCR 7062).
type Level string

// Verification levels, from lowest to highest.
const (
	// LevelNone: verification failed; nothing may be disclosed.
	LevelNone Level = "none"
	// LevelCategories: a reasonable degree of certainty (11 CCR 7062(b));
	// enough for categories of personal information, not for the pieces.
	LevelCategories Level = "categories"
	// LevelSpecificPieces: a reasonably high degree of certainty (11 CCR
	// 7062(c)); enough to disclose specific pieces of personal information.
	LevelSpecificPieces Level = "specific_pieces"
)

// Levels returns every level from lowest to highest.
func Levels() []Level { return []Level{LevelNone, LevelCategories, LevelSpecificPieces} }

func (l Level) rank() int { return slices.Index(Levels(), l) }

// Name returns the plain-language name of the level.
func (l Level) Name() string {
	switch l {
	case LevelNone:
		return "not verified"
	case LevelCategories:
		return "verified for categories of information"
	case LevelSpecificPieces:
		return "verified for specific pieces of information"
	}
	return string(l)
}

// Outcome is how a request was answered (11 CCR 7101(b), 7102).
type Outcome string

// Outcomes.
const (
	OutcomeComplied       Outcome = "complied"         // in whole
	OutcomeCompliedInPart Outcome = "complied_in_part" // in part; the rest denied, with a basis
	OutcomeDenied         Outcome = "denied"
)

// Basis is why a request was denied, in whole or in part (11 CCR 7101(b)).
type Basis string

// Bases of denial. Each names the rule that allows it.
const (
	// BasisUnverifiable: the requestor's identity could not be verified
	// (11 CCR 7024(a)–(b), 7062; Cal. Civ. Code 1798.140(ak)).
	BasisUnverifiable Basis = "unverifiable"
	// BasisAgentUnauthorized: the agent could not show it may act for the
	// consumer (11 CCR 7063).
	BasisAgentUnauthorized Basis = "agent_unauthorized"
	// BasisExemption: an exemption of the law applies (e.g. Cal. Civ. Code
	// 1798.145, 1798.105(d); GDPR Art. 17(3)); say which in Reason.
	BasisExemption Basis = "exemption"
	// BasisNotCovered: the requestor is not covered by the law named (for
	// example not a resident of the state).
	BasisNotCovered Basis = "not_covered"
	// BasisExcessive: manifestly unfounded or excessive (Cal. Civ. Code
	// 1798.145(h)(3); GDPR Art. 12(5)).
	BasisExcessive Basis = "excessive"
	// BasisRepeated: a third request to know within 12 months (Cal. Civ.
	// Code 1798.130(b)).
	BasisRepeated Basis = "repeated"
	// BasisOther: any other basis; Reason must explain it.
	BasisOther Basis = "other"
)

// Bases returns every basis in a stable order.
func Bases() []Basis {
	return []Basis{BasisUnverifiable, BasisAgentUnauthorized, BasisExemption, BasisNotCovered, BasisExcessive, BasisRepeated, BasisOther}
}

// quotedList renders vs as `a`, `b`, `c` for error messages.
func quotedList[T ~string](vs []T) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = "`" + string(v) + "`"
	}
	return strings.Join(parts, ", ")
}
