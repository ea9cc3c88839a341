package requests

import (
	"errors"
	"testing"
)

func TestDeadlines_PerJurisdiction(t *testing.T) {
	l := newLifecycle(t, Config{Holidays: []string{"2026-12-25", "2027-01-01"}})
	tests := []struct {
		name       string
		j          Jurisdiction
		typ        Type
		received   string
		confirmBy  string // "" when the law sets none
		respondBy  string
		extendedTo string // "" when no extension is allowed
	}{
		{"CCPA know, Monday", CCPA, TypeKnow, "2026-03-02", "2026-03-16", "2026-04-16", "2026-05-31"},
		{"CCPA delete across the month end, Friday", CCPA, TypeDelete, "2026-01-30", "2026-02-13", "2026-03-16", "2026-04-30"},
		{"CCPA correct received on a Saturday", CCPA, TypeCorrect, "2026-01-31", "2026-02-13", "2026-03-17", "2026-05-01"},
		{"CCPA opt-out: 15 business days over the holidays", CCPA, TypeOptOut, "2026-12-18", "", "2027-01-12", ""},
		{"CCPA limit", CCPA, TypeLimit, "2026-03-02", "", "2026-03-23", ""},
		{"GDPR Jan 31 + 1 month is Sat Feb 28, moved to Monday", GDPR, TypeAccess, "2026-01-31", "", "2026-03-02", "2026-04-30"},
		{"GDPR in a leap year", GDPR, TypeAccess, "2028-01-31", "", "2028-02-29", "2028-05-01"}, // Apr 30 2028 is a Sunday
		{"GDPR Mar 31 + 1 month", GDPR, TypeDelete, "2026-03-31", "", "2026-04-30", "2026-06-30"},
		{"GDPR across the year end", GDPR, TypeAccess, "2026-12-05", "", "2027-01-05", "2027-03-05"},
		{"Texas", Texas, TypeAccess, "2026-03-02", "", "2026-04-16", "2026-05-31"},
		{"Oregon", Oregon, TypeKnow, "2026-03-02", "", "2026-04-16", "2026-05-31"},
		{"Nevada opt-out of sale", Nevada, TypeOptOut, "2026-03-02", "", "2026-05-01", "2026-05-31"},
		{"Malaysia access", Malaysia, TypeAccess, "2026-03-02", "", "2026-03-23", "2026-04-06"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Request{ID: "r-1", Type: tt.typ, Jurisdiction: tt.j, ReceivedAt: at(tt.received)}
			d, err := l.Deadlines(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := dateOrEmpty(d.ConfirmBy); got != tt.confirmBy {
				t.Errorf("confirm by %q, want %q", got, tt.confirmBy)
			}
			if d.RespondBy.String() != tt.respondBy || d.OriginalRespondBy != d.RespondBy {
				t.Errorf("respond by %s (original %s), want %s", d.RespondBy, d.OriginalRespondBy, tt.respondBy)
			}
			ext := ""
			if d.Rules.Extended != nil {
				ext = d.Rules.Extended.From(date(tt.received), l.Calendar()).String()
			}
			if ext != tt.extendedTo {
				t.Errorf("extended to %q, want %q", ext, tt.extendedTo)
			}
		})
	}
}

func dateOrEmpty(d *Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func TestRulesFor_NamesWhatIsNotAvailable(t *testing.T) {
	_, err := RulesFor(Nevada, TypeKnow)
	if !errors.Is(err, ErrNotAvailable) {
		t.Fatalf("Nevada know: %v, want ErrNotAvailable", err)
	}
	if _, err := RulesFor("ccpaa", TypeKnow); err == nil {
		t.Fatal("unknown jurisdiction accepted")
	}
	if _, err := RulesFor(CCPA, "opt-out"); err == nil {
		t.Fatal("unknown type accepted")
	}
	for _, j := range Jurisdictions() {
		for _, typ := range Types() {
			r, err := RulesFor(j, typ)
			if err != nil {
				continue
			}
			if r.Respond.Cite == "" || (r.Extended != nil && r.Extended.Cite == "") {
				t.Errorf("%s %s: a limit without a citation", j, typ)
			}
			if j.USState() && r.Appeal == nil && j != Nevada {
				t.Errorf("%s: state acts give an appeal deadline", j)
			}
		}
	}
}

func TestPeriod_String(t *testing.T) {
	for p, want := range map[Period]string{
		{Days: 45}:         "45 calendar days",
		{BusinessDays: 10}: "10 business days",
		{Months: 1}:        "1 month",
		{Months: 3}:        "3 months",
	} {
		if got := p.String(); got != want {
			t.Errorf("%+v: %q, want %q", p, got, want)
		}
	}
}
