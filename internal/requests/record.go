package requests

import (
	"slices"
	"time"
)

// RecordRetentionMonths is how long a request record is kept after the request
// is closed: at least 24 months (11 CCR 7101(a)).
const RecordRetentionMonths = 24

// Record is the record of a request 11 CCR 7101(b) requires: the date of
// the request, its nature, the manner in which it was made, the date and
// nature of the response, and the basis for any denial. It holds no
// personal information beyond the request id.
type Record struct {
	RequestID    string       `json:"request_id"`
	Tenant       string       `json:"tenant"`
	Received     Date         `json:"received"`
	Type         Type         `json:"type"`
	Jurisdiction Jurisdiction `json:"jurisdiction"`
	Channel      Channel      `json:"channel"`
	ByAgent      bool         `json:"by_agent"`
	// Verification is the method and level reached ("" while unverified).
	VerificationMethod string `json:"verification_method,omitempty"`
	VerificationLevel  Level  `json:"verification_level,omitempty"`
	// ResponseDate and Outcome are those of the first answer; zero and ""
	// while the request is pending.
	ResponseDate *Date   `json:"response_date,omitempty"`
	Outcome      Outcome `json:"outcome,omitempty"`
	DenialBasis  Basis   `json:"denial_basis,omitempty"`
	// Appeal, when made: its date and the decision on it.
	AppealDate         *Date   `json:"appeal_date,omitempty"`
	AppealDecisionDate *Date   `json:"appeal_decision_date,omitempty"`
	AppealOutcome      Outcome `json:"appeal_outcome,omitempty"`
	AppealDenialBasis  Basis   `json:"appeal_denial_basis,omitempty"`
	// KeepUntil is the earliest date the record may be deleted: 24 months
	// after the request was closed. Nil while it is open.
	KeepUntil *Date `json:"keep_until,omitempty"`
}

// Record returns r's 11 CCR 7101 record.
func (l *Lifecycle) Record(r Request) Record {
	rec := Record{
		RequestID: r.ID, Tenant: r.Tenant, Received: l.cal.DateOf(r.ReceivedAt), Type: r.Type,
		Jurisdiction: r.Jurisdiction, Channel: r.Channel, ByAgent: r.Agent != "",
	}
	if v := r.Verification; v != nil {
		rec.VerificationMethod, rec.VerificationLevel = v.Method, v.Level
	}
	if d := r.Response; d != nil {
		rec.ResponseDate, rec.Outcome, rec.DenialBasis = l.datePtr(d.At), d.Outcome, d.Basis
	}
	if a := r.Appeal; a != nil {
		rec.AppealDate = l.datePtr(a.At)
	}
	if d := r.AppealDecision; d != nil {
		rec.AppealDecisionDate, rec.AppealOutcome, rec.AppealDenialBasis = l.datePtr(d.At), d.Outcome, d.Basis
	}
	if r.Closed() {
		k := l.cal.DateOf(r.Final().At).AddMonths(RecordRetentionMonths)
		rec.KeepUntil = &k
	}
	return rec
}

// Expired reports whether the record may be deleted on day: the request is
// closed (any appeal decided) and 24 months have passed since.
func (rec Record) Expired(day Date) bool {
	return rec.KeepUntil != nil && day.After(*rec.KeepUntil)
}

func (l *Lifecycle) datePtr(t time.Time) *Date {
	d := l.cal.DateOf(t)
	return &d
}

// Metrics are one year's figures for one request type, as 11 CCR 7102(a)
// asks businesses to compile them.
type Metrics struct {
	Year int  `json:"year"`
	Type Type `json:"type"`
	// Received counts requests received in the year (by their receipt
	// date); the other counts are of those requests.
	Received int `json:"received"`
	// Complied counts requests complied with in whole or in part; Denied
	// those denied in whole; Pending those not yet answered. A decided
	// appeal's outcome replaces the first answer's.
	Complied int `json:"complied"`
	Denied   int `json:"denied"`
	Pending  int `json:"pending"`
	// MedianDays is the median number of calendar days from receipt to
	// the first substantive answer, over the answered requests; 0 when none
	// was answered.
	MedianDays float64 `json:"median_days"`
}

// Metrics returns the 11 CCR 7102 metrics of year for every request type,
// in Types() order, from the requests given. Pass only the requests the
// figures are for (e.g. those under the CCPA).
func (l *Lifecycle) Metrics(reqs []Request, year int) []Metrics {
	out := make([]Metrics, 0, len(Types()))
	for _, t := range Types() {
		m := Metrics{Year: year, Type: t}
		var days []int
		for _, r := range reqs {
			received := l.cal.DateOf(r.ReceivedAt)
			if r.Type != t || received.Year != year {
				continue
			}
			m.Received++
			switch f := r.Final(); {
			case f == nil:
				m.Pending++
			case f.Outcome == OutcomeDenied:
				m.Denied++
			default:
				m.Complied++
			}
			if r.Response != nil {
				days = append(days, received.DaysUntil(l.cal.DateOf(r.Response.At)))
			}
		}
		m.MedianDays = median(days)
		out = append(out, m)
	}
	return out
}

func median(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return float64(xs[n/2])
	}
	return float64(xs[n/2-1]+xs[n/2]) / 2
}
