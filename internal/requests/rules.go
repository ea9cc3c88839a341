package requests

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Jurisdiction is the law a request is made under. The keys are those of
// event.Request.Jurisdiction.
type Jurisdiction string

// Jurisdictions: the CCPA and the GDPR, and the other laws the reference
// customers' policies (SPEC.md, seeds/) name with deadlines we can state.
const (
	CCPA        Jurisdiction = "ccpa"    // California Consumer Privacy Act, as amended by the CPRA
	GDPR        Jurisdiction = "gdpr"    // EU General Data Protection Regulation
	Colorado    Jurisdiction = "cpa"     // Colorado Privacy Act
	Connecticut Jurisdiction = "ctdpa"   // Connecticut Data Privacy Act
	Minnesota   Jurisdiction = "mncdpa"  // Minnesota Consumer Data Privacy Act
	Montana     Jurisdiction = "mtcdpa"  // Montana Consumer Data Privacy Act
	Nebraska    Jurisdiction = "ndpa"    // Nebraska Data Privacy Act
	NewHamp     Jurisdiction = "nhpa"    // New Hampshire privacy act (RSA 507-H)
	Oregon      Jurisdiction = "ocpa"    // Oregon Consumer Privacy Act
	Texas       Jurisdiction = "tdpsa"   // Texas Data Privacy and Security Act
	Virginia    Jurisdiction = "vcdpa"   // Virginia Consumer Data Protection Act
	Nevada      Jurisdiction = "nrs603a" // Nevada, NRS 603A (opt-out of sale only)
	Malaysia    Jurisdiction = "pdpa_my" // Malaysia Personal Data Protection Act 2010
)

// Jurisdictions returns every jurisdiction in a stable order.
func Jurisdictions() []Jurisdiction {
	return []Jurisdiction{CCPA, GDPR, Colorado, Connecticut, Minnesota, Montana, Nebraska, NewHamp, Oregon, Texas, Virginia, Nevada, Malaysia}
}

// Name returns the law's name as a report prints it.
func (j Jurisdiction) Name() string {
	switch j {
	case CCPA:
		return "California Consumer Privacy Act"
	case GDPR:
		return "General Data Protection Regulation (EU)"
	case Colorado:
		return "Colorado Privacy Act"
	case Connecticut:
		return "Connecticut Data Privacy Act"
	case Minnesota:
		return "Minnesota Consumer Data Privacy Act"
	case Montana:
		return "Montana Consumer Data Privacy Act"
	case Nebraska:
		return "Nebraska Data Privacy Act"
	case NewHamp:
		return "New Hampshire privacy law (RSA 507-H)"
	case Oregon:
		return "Oregon Consumer Privacy Act"
	case Texas:
		return "Texas Data Privacy and Security Act"
	case Virginia:
		return "Virginia Consumer Data Protection Act"
	case Nevada:
		return "Nevada Revised Statutes chapter 603A"
	case Malaysia:
		return "Personal Data Protection Act 2010 (Malaysia)"
	}
	return string(j)
}

// Known reports whether j is one of Jurisdictions().
func (j Jurisdiction) Known() bool { return slices.Contains(Jurisdictions(), j) }

// USState reports whether j is a US state law other than the CCPA.
func (j Jurisdiction) USState() bool {
	switch j {
	case Colorado, Connecticut, Minnesota, Montana, Nebraska, NewHamp, Oregon, Texas, Virginia, Nevada:
		return true
	}
	return false
}

// Period is a statutory time limit counted from a date (the day of receipt
// itself never counts).
type Period struct {
	Days         int // calendar days
	BusinessDays int // Monday to Friday, not holidays
	Months       int // calendar months, clamped to the month's end (Date.AddMonths)
	// NextBusinessDay moves a period that ends on a weekend or holiday to
	// the next business day, as Regulation 1182/71 Art. 3(4) does for EU
	// periods. US calendar-day deadlines are not moved: answering by the
	// calendar day is always on time.
	NextBusinessDay bool
	Cite            string // the rule setting the limit
}

// From returns the last day of the period starting after d.
func (p Period) From(d Date, cal Calendar) Date {
	switch {
	case p.BusinessDays > 0:
		d = cal.AddBusinessDays(d, p.BusinessDays)
	case p.Months > 0:
		d = d.AddMonths(p.Months)
	default:
		d = d.AddDays(p.Days)
	}
	if p.NextBusinessDay {
		d = cal.NextBusinessDay(d)
	}
	return d
}

// String returns the period in words, e.g. "45 calendar days".
func (p Period) String() string {
	switch {
	case p.BusinessDays > 0:
		return plural(p.BusinessDays, "business day")
	case p.Months > 0:
		return plural(p.Months, "month")
	}
	return plural(p.Days, "calendar day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// Rules are the time limits for one type of request under one law.
type Rules struct {
	// Confirm is the limit to confirm receipt; nil when the law sets none.
	Confirm *Period
	// Respond is the limit to answer, from receipt.
	Respond Period
	// Extended is the whole limit from receipt once the one extension is
	// taken (e.g. 45 + 45 = 90 days); nil when the law allows none.
	Extended *Period
	// Appeal is the limit to decide an appeal, from its receipt; nil when
	// the law gives no appeal with a deadline. AppealExtended is the whole
	// limit once extended; nil when it cannot be.
	Appeal, AppealExtended *Period
	// Note explains a choice the law leaves open, if any.
	Note string
}

// ErrNotAvailable is wrapped when the law named gives no such right (a
// request to know under Nevada law).
var ErrNotAvailable = errors.New("right not available under this law")

// RulesFor returns the time limits for a request of type t under law j.
// Sources: Cal. Civ. Code 1798.130(a)(2) and 11 CCR 7021, 7026(f), 7027(g);
// GDPR Art. 12(3) with Regulation 1182/71 Art. 3; the state acts cited; the
// Malaysian PDPA s. 31.
func RulesFor(j Jurisdiction, t Type) (Rules, error) {
	if !slices.Contains(Types(), t) {
		return Rules{}, fmt.Errorf("unknown request type %q (want one of %s)", t, quotedList(Types()))
	}
	switch j {
	case CCPA:
		if t == TypeOptOut || t == TypeLimit {
			// No confirmation duty and no extension: comply as soon as
			// feasibly possible and within 15 business days.
			cite := "11 CCR 7026(f)"
			if t == TypeLimit {
				cite = "11 CCR 7027(g)"
			}
			return Rules{Respond: Period{BusinessDays: 15, Cite: cite}}, nil
		}
		return Rules{
			Confirm:  &Period{BusinessDays: 10, Cite: "11 CCR 7021(a)"},
			Respond:  Period{Days: 45, Cite: "Cal. Civ. Code 1798.130(a)(2)(A); 11 CCR 7021(b)"},
			Extended: &Period{Days: 90, Cite: "Cal. Civ. Code 1798.130(a)(2)(A); 11 CCR 7021(b)"},
		}, nil
	case GDPR:
		const cite = "GDPR Art. 12(3); Regulation 1182/71 Art. 3"
		return Rules{
			Respond:  Period{Months: 1, NextBusinessDay: true, Cite: cite},
			Extended: &Period{Months: 3, NextBusinessDay: true, Cite: cite},
		}, nil
	case Colorado, Oregon, Minnesota:
		// These three give 45 days (+60) to decide an appeal.
		cite := map[Jurisdiction]string{
			Colorado:  "C.R.S. 6-1-1306",
			Oregon:    "ORS 646A.570 et seq.",
			Minnesota: "Minn. Stat. 325M.10 et seq.",
		}[j]
		return stateRules(cite, Period{Days: 45, Cite: cite}, &Period{Days: 105, Cite: cite}), nil
	case Connecticut, Montana, Nebraska, NewHamp, Texas, Virginia:
		cite := map[Jurisdiction]string{
			Connecticut: "Conn. Gen. Stat. 42-515 et seq.",
			Montana:     "Mont. Code Ann. 30-14-2801 et seq.",
			Nebraska:    "Neb. Rev. Stat. 87-1101 et seq.",
			NewHamp:     "N.H. RSA 507-H",
			Texas:       "Tex. Bus. & Com. Code 541.052–.053",
			Virginia:    "Va. Code 59.1-577",
		}[j]
		return stateRules(cite, Period{Days: 60, Cite: cite}, nil), nil
	case Nevada:
		if t != TypeOptOut {
			return Rules{}, fmt.Errorf("%w: Nevada law (NRS 603A.345) gives only the right to opt out of sale, not a %s", ErrNotAvailable, t.Name())
		}
		return Rules{
			Respond:  Period{Days: 60, Cite: "NRS 603A.345"},
			Extended: &Period{Days: 90, Cite: "NRS 603A.345"},
		}, nil
	case Malaysia:
		return Rules{
			Respond:  Period{Days: 21, Cite: "PDPA 2010 (Malaysia) s. 31(1)"},
			Extended: &Period{Days: 35, Cite: "PDPA 2010 (Malaysia) s. 31(2)–(3)"},
			Note:     "The PDPA gives rights of access and correction; other request types follow the same limits.",
		}, nil
	}
	return Rules{}, fmt.Errorf("unknown jurisdiction %q (want one of %s)", j, quotedList(Jurisdictions()))
}

// stateRules are the limits common to the US state acts: 45 days to answer,
// one 45-day extension, and a deadline to decide an appeal. None of them
// sets a deadline to confirm receipt.
func stateRules(cite string, appeal Period, appealExtended *Period) Rules {
	return Rules{
		Respond:        Period{Days: 45, Cite: cite},
		Extended:       &Period{Days: 90, Cite: cite},
		Appeal:         &appeal,
		AppealExtended: appealExtended,
	}
}
