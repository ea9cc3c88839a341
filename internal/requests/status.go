package requests

import "time"

// Duty is something the business owes the person by a deadline.
type Duty string

// Duties.
const (
	DutyConfirm      Duty = "confirm"       // confirm receipt
	DutyRespond      Duty = "respond"       // answer the request
	DutyDecideAppeal Duty = "decide_appeal" // decide the appeal
)

// Deadlines are a request's deadlines as dates in the business's time zone;
// each is met by the end of its day.
type Deadlines struct {
	Rules Rules
	// ConfirmBy is nil when the law sets no deadline to confirm receipt.
	ConfirmBy *Date
	// RespondBy is the deadline to answer, extended if the extension was
	// taken; OriginalRespondBy is the deadline before any extension.
	RespondBy, OriginalRespondBy Date
	// DecideAppealBy is set once the request is appealed under a law that
	// gives appeals a deadline.
	DecideAppealBy *Date
}

// Deadlines computes r's deadlines from its receipt, type and jurisdiction.
func (l *Lifecycle) Deadlines(r Request) (Deadlines, error) {
	rules, err := RulesFor(r.Jurisdiction, r.Type)
	if err != nil {
		return Deadlines{}, err
	}
	received := l.cal.DateOf(r.ReceivedAt)
	d := Deadlines{Rules: rules, OriginalRespondBy: rules.Respond.From(received, l.cal)}
	d.RespondBy = d.OriginalRespondBy
	if r.Extension != nil {
		d.RespondBy = r.Extension.RespondBy
	}
	if rules.Confirm != nil {
		c := rules.Confirm.From(received, l.cal)
		d.ConfirmBy = &c
	}
	if r.Appeal != nil && rules.Appeal != nil {
		a := rules.Appeal.From(l.cal.DateOf(r.Appeal.At), l.cal)
		if r.AppealExtension != nil {
			a = r.AppealExtension.RespondBy
		}
		d.DecideAppealBy = &a
	}
	return d, nil
}

// Due is one duty with its deadline, as of a moment.
type Due struct {
	Duty Duty
	By   Date
	Cite string
	// Done is the date the duty was met; nil while it is not.
	Done *Date
	// Overdue: not met, and By has passed.
	Overdue bool
	// Late: met, but after By.
	Late bool
	// DaysLeft counts calendar days from the moment's date to By; negative
	// when overdue, 0 once met.
	DaysLeft int
}

// Status is where a request stands against its deadlines at a moment.
type Status struct {
	RequestID string
	State     State
	Dues      []Due // in lifecycle order: confirm, respond, decide_appeal
	// Next is the first duty not yet met, nil when none is left.
	Next *Due
	// Overdue is true when any duty is overdue.
	Overdue bool
}

// Status returns r's duties and deadlines as of now. Confirming receipt is
// also met by answering first: the answer itself confirms receipt.
func (l *Lifecycle) Status(r Request, now time.Time) (Status, error) {
	dl, err := l.Deadlines(r)
	if err != nil {
		return Status{}, err
	}
	today := l.cal.DateOf(now)
	s := Status{RequestID: r.ID, State: r.State}
	add := func(duty Duty, by Date, cite string, done *time.Time) {
		due := Due{Duty: duty, By: by, Cite: cite}
		if done != nil {
			d := l.cal.DateOf(*done)
			due.Done, due.Late = &d, d.After(by)
		} else {
			due.DaysLeft = today.DaysUntil(by)
			due.Overdue = today.After(by)
		}
		s.Dues = append(s.Dues, due)
	}
	if dl.ConfirmBy != nil {
		var done *time.Time
		switch {
		case r.Confirmed != nil && (r.Response == nil || !r.Response.At.Before(r.Confirmed.At)):
			done = &r.Confirmed.At
		case r.Response != nil:
			done = &r.Response.At
		}
		add(DutyConfirm, *dl.ConfirmBy, dl.Rules.Confirm.Cite, done)
	}
	cite := dl.Rules.Respond.Cite
	if r.Extension != nil && dl.Rules.Extended != nil {
		cite = dl.Rules.Extended.Cite
	}
	add(DutyRespond, dl.RespondBy, cite, atOf(r.Response))
	if dl.DecideAppealBy != nil {
		cite := dl.Rules.Appeal.Cite
		add(DutyDecideAppeal, *dl.DecideAppealBy, cite, atOf(r.AppealDecision))
	}
	for i := range s.Dues {
		if s.Dues[i].Overdue {
			s.Overdue = true
		}
		if s.Next == nil && s.Dues[i].Done == nil {
			s.Next = &s.Dues[i]
		}
	}
	return s, nil
}

func atOf(d *Decision) *time.Time {
	if d == nil {
		return nil
	}
	return &d.At
}
