package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/requests"
)

// document is a report laid out for people: the sections, paragraphs and
// tables that HTML and PDF both render, so the two say the same thing in the
// same words.
type document struct {
	Lang     string
	Title    string
	Intro    []string
	About    table
	Sections []section
}

type section struct {
	ID     string // anchor, e.g. "sold"
	Title  string
	Blocks []block
}

// block is one paragraph, bulleted list or table.
type block struct {
	Text  string
	List  []string
	Table *table
}

type table struct {
	Caption string
	Head    []string // nil for a two-column table of row headers and values
	Rows    [][]string
	// RowHeader makes the first cell of each row a row header.
	RowHeader bool
	// Widths are the columns' relative widths (for PDF).
	Widths []float64
}

const (
	dash     = "—"
	dayForm  = "2 January 2006"
	timeForm = "2 January 2006, 15:04 UTC"
)

func day(t time.Time) string { return t.UTC().Format(dayForm) }

func dayPtr(t *time.Time) string {
	if t == nil {
		return dash
	}
	return day(*t)
}

func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
}

func names(ts []Term) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return orDash(strings.Join(out, "; "))
}

// layout turns a report into its document.
func layout(r Report) document {
	purposes := map[string]Purpose{}
	for _, p := range r.Purposes {
		purposes[p.Key] = p
	}
	purposeNames := func(keys []string) string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = k
			if p, ok := purposes[k]; ok {
				out[i] = p.Name
			}
		}
		return orDash(strings.Join(out, "; "))
	}
	d := document{Lang: "en", Title: "Your personal information at " + r.Business.Name}
	d.Intro, d.About = intro(r), about(r)
	d.Sections = []section{
		collected(r),
		sources(r),
		purposesSection(r),
		disclosedSection("sold", "Who we sold or shared it with", r.SoldOrShared, soldIntro, soldNone,
			"Categories of personal information we sold or shared, and the categories of third parties we sold or shared each with",
			"Category of third parties", "Sold or shared",
			func(rc RecipientCategory) string { return names(rc.Disclosures) }),
		disclosedSection("business-purpose", "Who we disclosed it to for a business purpose", r.DisclosedForBusinessPurpose, businessIntro, businessNone,
			"Categories of personal information we disclosed for a business purpose, and the categories of recipients of each",
			"Category of recipients", "Their role",
			func(rc RecipientCategory) string { return names(rc.Roles) }),
	}
	if len(r.OtherDisclosures) > 0 {
		d.Sections = append(d.Sections, disclosedSection("other-disclosures", "Other disclosures", r.OtherDisclosures,
			"We also disclosed information for these reasons, which are neither a sale, nor sharing, nor a business purpose.", "",
			"Other disclosures of personal information", "Category of recipients", "Why",
			func(rc RecipientCategory) string { return names(rc.Disclosures) }))
	}
	d.Sections = append(d.Sections,
		recipients(r, purposeNames),
		pieces(r),
		retention(r),
		decisions(r),
		choices(r),
		deletions(r),
		rights(r),
	)
	return d
}

func intro(r Report) []string {
	var out []string
	if q := r.Request; q != nil {
		out = append(out, "This report answers your "+q.Type.Name+" (reference "+q.ID+"), which we received on "+day(q.ReceivedAt)+".")
		if q.Agent != "" {
			out = append(out, "Your authorized agent, "+q.Agent+", made the request for you.")
		}
	} else {
		out = append(out, "This report describes the personal information "+r.Business.Name+" holds about the person it concerns.")
	}
	period := "It covers " + day(r.Window.From) + " to " + day(r.Window.To)
	switch {
	case !r.Window.Default:
		period += ", the period you asked for."
	case r.Jurisdiction.Key == string(requests.GDPR) || r.Jurisdiction.Key == string(requests.Malaysia):
		period += ": everything we recorded about you up to your request."
	case r.Jurisdiction.Key == string(requests.CCPA):
		period += ": the 12 months before we received your request. You may ask us for information from further back, to 1 January 2022."
	default:
		period += ": the 12 months before we received your request."
	}
	out = append(out, period)
	if len(r.IdentifierKinds) > 0 {
		kinds := make([]string, len(r.IdentifierKinds))
		for i, k := range r.IdentifierKinds {
			kinds[i] = lowerFirst(k.Name)
		}
		out = append(out, "We found your records by your "+andList(kinds)+".")
	}
	if r.ScopeNote != "" {
		out = append(out, r.ScopeNote)
	}
	return out
}

func about(r Report) table {
	t := table{Caption: "About this report", RowHeader: true, Widths: []float64{1, 2}}
	add := func(k, v string) { t.Rows = append(t.Rows, []string{k, v}) }
	add("From", r.Business.Name)
	if q := r.Request; q != nil {
		add("Request reference", q.ID)
		add("Type of request", upperFirst(q.Type.Name))
		add("Received", day(q.ReceivedAt))
		by := "You"
		if q.Agent != "" {
			by = "Your authorized agent, " + q.Agent
		}
		add("Made by", by)
		v := requests.Level(q.Verification.Level).Name()
		if q.Verification.Method != "" {
			v += " (" + strings.ReplaceAll(q.Verification.Method, "_", " ") + ")"
		}
		add("Identity", upperFirst(v))
	}
	add("Law", r.Jurisdiction.Name)
	shows := "The categories of information we hold, and the information itself"
	if r.Scope != string(requests.LevelSpecificPieces) {
		shows = "The categories of information we hold (not the information itself)"
	}
	add("What it shows", shows)
	add("Period covered", day(r.Window.From)+" to "+day(r.Window.To))
	add("Made on", r.GeneratedAt.UTC().Format(timeForm))
	if r.Business.Contact != "" {
		add("Questions", r.Business.Contact)
	}
	return t
}

func collected(r Report) section {
	s := section{ID: "collected", Title: "What personal information we collected"}
	if len(r.Categories) == 0 {
		s.Blocks = append(s.Blocks, block{Text: "We hold no personal information about you from this period."})
		return s
	}
	s.Blocks = append(s.Blocks, block{Text: "California law groups personal information into the categories below, by their names in " +
		"California Civil Code section 1798.140(v)(1). In this period we collected information about you in these categories."})
	cats := table{Caption: "Categories of personal information we collected", Head: []string{"Category", "What it covers", "Information in it"},
		RowHeader: true, Widths: []float64{2, 3, 2}}
	for _, c := range r.Categories {
		cats.Rows = append(cats.Rows, []string{c.Name, c.Description, names(c.DataCategories)})
	}
	s.Blocks = append(s.Blocks, block{Table: &cats})
	info := table{Caption: "The kinds of information we hold", RowHeader: true,
		Head:   []string{"Information", "What it is", "Category", "Sensitive", "First collected", "Last collected"},
		Widths: []float64{2, 3, 1, 2, 1.4, 1.4}}
	sensitive := false
	for _, c := range r.DataCategories {
		sens := "No"
		if c.Sensitive != nil {
			sens, sensitive = "Yes: "+c.Sensitive.Text, true
		}
		info.Rows = append(info.Rows, []string{c.Name, c.Description, strings.Join(c.Letters, ", "), sens,
			dayPtr(c.FirstCollected), dayPtr(c.LastCollected)})
	}
	s.Blocks = append(s.Blocks, block{Table: &info})
	if sensitive {
		s.Blocks = append(s.Blocks, block{Text: "Information marked sensitive is sensitive personal information (category L, " +
			"California Civil Code section 1798.140(ae))."})
	}
	return s
}

func sources(r Report) section {
	s := section{ID: "sources", Title: "Where we got it"}
	if len(r.Sources) == 0 {
		s.Blocks = append(s.Blocks, block{Text: "We collected no information about you in this period."})
		return s
	}
	s.Blocks = append(s.Blocks, block{Text: "We got your information from these kinds of sources. Where it did not come from you, " +
		"the named sources say where it came from."})
	t := table{Caption: "Categories of sources", Head: []string{"Source", "Named sources", "Information we got from it"},
		RowHeader: true, Widths: []float64{2, 2, 3}}
	for _, src := range r.Sources {
		named := src.Named
		if src.Key == "inferred" {
			// Derived data is named by the activity that derived it, a key.
			named = make([]string, len(src.Named))
			for i, n := range src.Named {
				named[i] = strings.ReplaceAll(n, "_", " ")
			}
		}
		t.Rows = append(t.Rows, []string{src.Name, orDash(strings.Join(named, "; ")), names(src.DataCategories)})
	}
	s.Blocks = append(s.Blocks, block{Table: &t})
	return s
}

func purposesSection(r Report) section {
	s := section{ID: "purposes", Title: "Why we collected and used it"}
	if len(r.Purposes) == 0 {
		s.Blocks = append(s.Blocks, block{Text: "We recorded no purpose in this period."})
		return s
	}
	t := table{Caption: "Business and commercial purposes", Head: []string{"Purpose", "What it means", "Kind of purpose", "Information used"},
		RowHeader: true, Widths: []float64{2, 3.5, 2, 2.5}}
	for _, p := range r.Purposes {
		kind := "Commercial purpose"
		if p.Kind == "business" {
			kind = "Business purpose"
			if p.Statutory != "" {
				kind += " (California Civil Code section " + p.Statutory + ")"
			}
		}
		t.Rows = append(t.Rows, []string{p.Name, p.Description, kind, names(p.DataCategories)})
	}
	s.Blocks = append(s.Blocks, block{Table: &t})
	return s
}

const (
	soldIntro = "To sell personal information means to make it available to another company for money or something else of value. " +
		"To share it means to make it available to another company to show you advertising based on what you do on other " +
		"companies' websites and apps (California Civil Code section 1798.140(ad) and (ah)). You can tell us to stop; see Your rights below."
	soldNone      = "We did not sell or share your personal information in this period."
	businessIntro = "We disclosed this information to companies that do work for us, such as service providers and contractors, " +
		"under contracts that do not allow them to use it for anything else."
	businessNone = "We did not disclose your personal information for a business purpose in this period."
)

// disclosedSection renders one of the per-category disclosure lists: a row
// per category of personal information and category of recipient.
func disclosedSection(id, title string, dcs []DisclosedCategory, introText, none, caption, recipientHead, lastHead string,
	last func(RecipientCategory) string) section {
	s := section{ID: id, Title: title, Blocks: []block{{Text: introText}}}
	if len(dcs) == 0 {
		s.Blocks = append(s.Blocks, block{Text: none})
		return s
	}
	t := table{Caption: caption, Head: []string{"Category of personal information", "Information", recipientHead, lastHead},
		RowHeader: true, Widths: []float64{3, 2, 2, 2}}
	for _, dc := range dcs {
		for _, rc := range dc.Recipients {
			t.Rows = append(t.Rows, []string{dc.Name, names(dc.DataCategories), rc.Name, last(rc)})
		}
	}
	s.Blocks = append(s.Blocks, block{Table: &t})
	return s
}

func recipients(r Report, purposeNames func([]string) string) section {
	s := section{ID: "recipients", Title: "The companies that received it"}
	if len(r.Recipients) == 0 {
		s.Blocks = append(s.Blocks, block{Text: "No company or organisation outside " + r.Business.Name + " received your information in this period."})
		return s
	}
	s.Blocks = append(s.Blocks, block{Text: "These are the companies and organisations that received your information, and the countries " +
		"they received it in."})
	t := table{Caption: "Recipients of your personal information", RowHeader: true,
		Head:   []string{"Recipient", "Kind", "Relationship", "How", "Country", "Information", "Why", "When"},
		Widths: []float64{1.6, 1.5, 1.7, 1.6, 1.2, 2, 1.6, 1.5}}
	for _, rc := range r.Recipients {
		countries := make([]string, len(rc.Countries))
		for i, c := range rc.Countries {
			countries[i] = c.Name
		}
		when := day(rc.First)
		if !rc.Last.Equal(rc.First) && day(rc.Last) != when {
			when += " to " + day(rc.Last)
		}
		t.Rows = append(t.Rows, []string{rc.Name, rc.Kind.Name, rc.Role.Name, names(rc.Disclosures), orDash(strings.Join(countries, "; ")),
			names(rc.DataCategories), purposeNames(rc.Purposes), when})
	}
	s.Blocks = append(s.Blocks, block{Table: &t})
	return s
}

func pieces(r Report) section {
	s := section{ID: "information", Title: "The information itself"}
	if r.Scope != string(requests.LevelSpecificPieces) {
		s.Blocks = append(s.Blocks, block{Text: r.ScopeNote})
		return s
	}
	if len(r.SpecificPieces) == 0 {
		s.Blocks = append(s.Blocks, block{Text: "We hold no specific pieces of personal information about you from this period."})
		return s
	}
	s.Blocks = append(s.Blocks, block{Text: "This is the information we hold about you. Some information, such as account and " +
		"identity numbers and passwords, is never shown in a report, even to you, because it could be misused if the report " +
		"fell into the wrong hands. For those we tell you that we hold them instead."})
	t := table{Caption: "Specific pieces of personal information", Head: []string{"Information", "What we hold", "Recorded as", "Status"},
		RowHeader: true, Widths: []float64{2, 4, 1.4, 1.6}}
	for _, p := range r.SpecificPieces {
		v := p.Notice
		if p.ValueStatus == ValueShown {
			v = valueText(p.Value)
			if p.Notice != "" { // shown in part (shownValue)
				v += " (" + p.Notice + ")"
			}
		}
		t.Rows = append(t.Rows, []string{p.CategoryName, v, p.Name, statusText(p)})
	}
	s.Blocks = append(s.Blocks, block{Table: &t})
	return s
}

// valueText renders a JSON value for people: a string as itself, anything
// else as compact JSON.
func valueText(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}

func statusText(p Piece) string {
	switch p.Status {
	case "erased":
		return "Deleted on " + dayPtr(p.StatusAt)
	case "corrected":
		return "Corrected on " + dayPtr(p.StatusAt)
	}
	return "Held"
}

func retention(r Report) section {
	s := section{ID: "retention", Title: "How long we keep it"}
	if len(r.DataCategories) == 0 {
		s.Blocks = append(s.Blocks, block{Text: "We hold no personal information about you from this period."})
		return s
	}
	t := table{Caption: "How long we keep each kind of information", Head: []string{"Information", "How long we keep it"},
		RowHeader: true, Widths: []float64{1, 2}}
	for _, c := range r.DataCategories {
		p := c.Retention
		if p == "" {
			p = "Not stated"
		}
		t.Rows = append(t.Rows, []string{c.Name, p})
	}
	s.Blocks = append(s.Blocks, block{Table: &t})
	return s
}

func decisions(r Report) section {
	s := section{ID: "automated-decisions", Title: "Decisions made by computer"}
	if len(r.AutomatedDecisions) == 0 {
		s.Blocks = append(s.Blocks, block{Text: "We made no decisions about you by automated means in this period."})
		return s
	}
	s.Blocks = append(s.Blocks, block{Text: "Some decisions about you were made by computer, without a person deciding. " +
		"This is how they work and what they use."})
	t := table{Caption: "Automated decisions", Head: []string{"Activity", "How it decides", "Effect on you", "Information used"},
		RowHeader: true, Widths: []float64{1.6, 4, 1.6, 2}}
	for _, a := range r.AutomatedDecisions {
		effect := "No legal or similarly significant effect"
		if a.Significant {
			effect = "Legal or similarly significant effect"
		}
		t.Rows = append(t.Rows, []string{strings.ReplaceAll(a.Activity, "_", " "), a.Logic, effect, names(a.Inputs)})
	}
	s.Blocks = append(s.Blocks, block{Table: &t})
	return s
}

func choices(r Report) section {
	s := section{ID: "choices", Title: "Your choices"}
	if len(r.Choices) == 0 {
		s.Blocks = append(s.Blocks, block{Text: "We have no record of opt-outs or consents from you in this period."})
		return s
	}
	t := table{Caption: "Your opt-outs and consents", Head: []string{"Choice", "Your setting", "Since", "How you told us"},
		RowHeader: true, Widths: []float64{2.5, 1.5, 1.5, 2}}
	for _, c := range r.Choices {
		t.Rows = append(t.Rows, []string{c.Choice.Name, c.Status.Name, day(c.Since), c.Mechanism.Name})
	}
	s.Blocks = append(s.Blocks, block{Table: &t})
	return s
}

func deletions(r Report) section {
	s := section{ID: "deleted-corrected", Title: "Information we deleted or corrected"}
	if len(r.Erasures) == 0 && len(r.Corrections) == 0 {
		s.Blocks = append(s.Blocks, block{Text: "We deleted or corrected none of your information in this period."})
		return s
	}
	if len(r.Erasures) > 0 {
		t := table{Caption: "Deletions", Head: []string{"Date", "What we deleted", "Why", "Your request"},
			RowHeader: true, Widths: []float64{1.4, 3, 2, 1.4}}
		for _, e := range r.Erasures {
			what := names(e.Categories)
			switch {
			case e.All:
				what = "All your information"
			case len(e.Elements) > 0:
				what = elementText(e.Elements)
			}
			t.Rows = append(t.Rows, []string{day(e.At), what, e.Reason.Name, orDash(e.RequestID)})
		}
		s.Blocks = append(s.Blocks, block{Table: &t})
	}
	if len(r.Corrections) > 0 {
		t := table{Caption: "Corrections", Head: []string{"Date", "What we corrected"}, RowHeader: true, Widths: []float64{1, 3}}
		for _, c := range r.Corrections {
			t.Rows = append(t.Rows, []string{day(c.At), elementText(c.Elements)})
		}
		s.Blocks = append(s.Blocks, block{Table: &t})
	}
	return s
}

// elementText names elements by their categories, each once.
func elementText(els []ElementRef) string {
	var out []string
	for _, e := range els {
		if !slices.Contains(out, e.CategoryName) {
			out = append(out, e.CategoryName)
		}
	}
	return orDash(strings.Join(out, "; "))
}

// andList joins words as a sentence does: "a", "a and b", "a, b and c".
func andList(ws []string) string {
	if len(ws) < 2 {
		return strings.Join(ws, "")
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
