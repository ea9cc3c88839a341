package requests

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/custodyhq/custody/internal/event"
)

func TestLifecycle_RequestToKnowFromOpenToCompleted(t *testing.T) {
	l := newLifecycle(t, Config{})
	x := newRun(t, l).open(OpenInput{Act: Act{EventID: eid(100), At: at("2026-03-02T15:04:05Z")}, Type: TypeKnow,
		Jurisdiction: CCPA, Channel: ChannelEmail, Agent: "Acme Privacy Agents", ReceivedAt: at("2026-03-02")})
	if x.r.State != StateOpen || x.r.Sought != LevelSpecificPieces || x.r.Agent != "Acme Privacy Agents" {
		t.Fatalf("after open: %+v", x.r)
	}
	opened := x.events[0].Data.(*event.Request)
	if opened.DueAt == nil || l.Calendar().DateOf(*opened.DueAt) != date("2026-04-16") {
		t.Fatalf("opened due_at = %v, want the end of 2026-04-16", opened.DueAt)
	}
	x.must(l.Confirm(x.r, x.act("2026-03-03")))
	if x.r.State != StateConfirmed {
		t.Fatalf("state %s after confirm", x.r.State)
	}
	x.must(l.Verify(x.r, VerifyInput{Act: x.act("2026-03-05"), Method: MethodMatchingDataPoints, Level: LevelSpecificPieces}))
	if x.r.State != StateVerified || x.r.Scope() != LevelSpecificPieces || x.r.Downgraded() {
		t.Fatalf("after verify: state %s scope %s downgraded %v", x.r.State, x.r.Scope(), x.r.Downgraded())
	}
	x.must(l.Complete(x.r, CompleteInput{Act: x.act("2026-03-20"), Outcome: OutcomeComplied, Report: &ReportRef{ID: "rep-1", SHA256: "ab12"}}))
	if x.r.State != StateCompleted || x.r.Final().Report.ID != "rep-1" || !x.r.Closed() {
		t.Fatalf("after complete: %+v", x.r)
	}

	// The fold of the events, in any order and with duplicates, is the same request.
	shuffled := append(slices.Clone(x.events), x.events[2], x.events[0])
	slices.Reverse(shuffled)
	got, err := l.Replay(shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], x.r) {
		t.Fatalf("replay differs:\n got %+v\nwant %+v", got, x.r)
	}

	st, err := l.Status(x.r, at("2026-06-01"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Overdue || st.Next != nil || len(st.Dues) != 2 || st.Dues[0].Done.String() != "2026-03-03" || st.Dues[1].Late {
		t.Fatalf("status: %+v", st)
	}
}

// TestLifecycle_EventsAreValidStoredEvents checks that every event the
// commands return passes the event contract's decoder, as the log reads it.
func TestLifecycle_EventsAreValidStoredEvents(t *testing.T) {
	l := newLifecycle(t, Config{})
	x := newRun(t, l).open(openInput("2026-03-02", GDPR, TypeAccess))
	x.must(l.Confirm(x.r, x.act("2026-03-02")))
	x.must(l.Extend(x.r, ExtendInput{Act: x.act("2026-03-10"), Reason: "Several systems to search"}))
	x.must(l.Verify(x.r, VerifyInput{Act: x.act("2026-03-11"), Method: MethodAccountLogin, Level: LevelSpecificPieces}))
	x.must(l.Complete(x.r, CompleteInput{Act: x.act("2026-04-01"), Outcome: OutcomeCompliedInPart, Basis: BasisExemption,
		Reason: "Fraud records are withheld", Report: &ReportRef{ID: "rep-9"}}))
	x.must(l.Appeal(x.r, AppealInput{Act: x.act("2026-04-02"), Reason: "I want the fraud records"}))
	x.must(l.Deny(x.r, DenyInput{Act: x.act("2026-04-20"), Basis: BasisExemption, Reason: "Upheld"}))
	for _, e := range x.events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back event.Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v\n%s", e.Type, err, b)
		}
		if !reflect.DeepEqual(back.Data, e.Data) {
			t.Errorf("%s: data changed in the round trip:\n got %+v\nwant %+v", e.Type, back.Data, e.Data)
		}
	}
	if ids := x.events[0].Subject.Identifiers; len(ids) != 2 || ids[0] != jane.Identifiers[0] || ids[1] != RequestIdentifier("r-1") {
		t.Errorf("opened subject %v: the person's identifiers, then the request's", ids)
	}
	for _, e := range x.events[1:] {
		if ids := e.Subject.Identifiers; len(ids) != 1 || ids[0] != RequestIdentifier("r-1") {
			t.Errorf("%s subject %v: only the request's identifier", e.Type, ids)
		}
	}
	ext := x.events[2].Data.(*event.Request)
	if ext.DueAt == nil || l.Calendar().DateOf(*ext.DueAt) != date("2026-06-02") {
		t.Errorf("extended due_at = %v, want the end of 2026-06-02 (Mar 2 + 3 months)", ext.DueAt)
	}
}

func TestLifecycle_InvalidStepsAreErrorsNamingTheRequest(t *testing.T) {
	l := newLifecycle(t, Config{})
	opened := func(j Jurisdiction, typ Type) *run { return newRun(t, l).open(openInput("2026-01-31", j, typ)) }
	verified := func(j Jurisdiction, typ Type, lv Level) *run {
		x := opened(j, typ)
		return x.must(l.Verify(x.r, VerifyInput{Act: x.act("2026-02-02"), Method: MethodMatchingDataPoints, Level: lv}))
	}
	completed := func() *run {
		x := verified(CCPA, TypeDelete, LevelCategories)
		return x.must(l.Complete(x.r, CompleteInput{Act: x.act("2026-02-10"), Outcome: OutcomeComplied}))
	}
	tests := []struct {
		name string
		step func() error
		want string
		is   error
	}{
		{"extend twice", func() error {
			x := opened(GDPR, TypeAccess)
			x.must(l.Extend(x.r, ExtendInput{Act: x.act("2026-03-02"), Reason: "complex"}))
			_, err := l.Extend(x.r, ExtendInput{Act: x.act("2026-03-03"), Reason: "again"})
			return err
		}, "extend: request r-1 was already extended on 2026-03-02", ErrInvalidTransition},
		{"extend after the first period", func() error {
			x := opened(CCPA, TypeKnow)
			_, err := l.Extend(x.r, ExtendInput{Act: x.act("2026-03-18"), Reason: "late"})
			return err
		}, "extend: request r-1 can no longer be extended: notice of an extension must be given within the first period, which ended on 2026-03-17", ErrInvalidTransition},
		{"extend an opt-out", func() error {
			x := opened(CCPA, TypeOptOut)
			_, err := l.Extend(x.r, ExtendInput{Act: x.act("2026-02-02"), Reason: "busy"})
			return err
		}, "extend: request r-1 cannot be extended: the California Consumer Privacy Act allows no extension for a request to opt out", ErrInvalidTransition},
		{"extend without a reason", func() error {
			x := opened(CCPA, TypeKnow)
			_, err := l.Extend(x.r, ExtendInput{Act: x.act("2026-02-02")})
			return err
		}, "extend: request r-1: reason: is required: the person must be told why more time is needed", ErrInvalidInput},
		{"confirm twice", func() error {
			x := opened(CCPA, TypeKnow)
			x.must(l.Confirm(x.r, x.act("2026-02-02")))
			_, err := l.Confirm(x.r, x.act("2026-02-03"))
			return err
		}, "confirm: request r-1 was already confirmed on 2026-02-02", ErrInvalidTransition},
		{"complete without verification", func() error {
			x := opened(CCPA, TypeDelete)
			_, err := l.Complete(x.r, CompleteInput{Act: x.act("2026-02-02"), Outcome: OutcomeComplied})
			return err
		}, "complete: request r-1 is not verified; verify the requester's identity first, or deny it with basis `unverifiable`", ErrInvalidTransition},
		{"complete after a failed verification", func() error {
			x := verified(CCPA, TypeKnow, LevelNone)
			_, err := l.Complete(x.r, CompleteInput{Act: x.act("2026-02-03"), Outcome: OutcomeComplied, Report: &ReportRef{ID: "x"}})
			return err
		}, "complete: request r-1 could not be verified (2026-02-02); verify again, or deny it with basis `unverifiable`", ErrInvalidTransition},
		{"complete a request to know without its report", func() error {
			x := verified(CCPA, TypeKnow, LevelSpecificPieces)
			_, err := l.Complete(x.r, CompleteInput{Act: x.act("2026-02-03"), Outcome: OutcomeComplied})
			return err
		}, "complete: request r-1: report: is required: a request to know is answered with a report; attach its id", ErrInvalidInput},
		{"complete in part without a basis", func() error {
			x := verified(CCPA, TypeDelete, LevelCategories)
			_, err := l.Complete(x.r, CompleteInput{Act: x.act("2026-02-03"), Outcome: OutcomeCompliedInPart})
			return err
		}, "complete: request r-1: basis: \"\" is not a basis of denial", ErrInvalidInput},
		{"deny with basis other and no reason", func() error {
			x := opened(CCPA, TypeKnow)
			_, err := l.Deny(x.r, DenyInput{Act: x.act("2026-02-02"), Basis: BasisOther})
			return err
		}, "deny: request r-1: reason: is required with basis `other`: say why", ErrInvalidInput},
		{"step on a completed request", func() error {
			x := completed()
			_, err := l.Verify(x.r, VerifyInput{Act: x.act("2026-02-11"), Method: "account_login", Level: LevelCategories})
			return err
		}, "verify: request r-1 was already completed on 2026-02-10", ErrInvalidTransition},
		{"appeal before the answer", func() error {
			x := opened(Texas, TypeAccess)
			_, err := l.Appeal(x.r, AppealInput{Act: x.act("2026-02-02")})
			return err
		}, "appeal: request r-1 has not been answered yet; only an answer can be appealed", ErrInvalidTransition},
		{"appeal twice", func() error {
			x := completed()
			x.must(l.Appeal(x.r, AppealInput{Act: x.act("2026-02-11")}))
			x.must(l.Deny(x.r, DenyInput{Act: x.act("2026-02-20"), Basis: BasisExemption}))
			_, err := l.Appeal(x.r, AppealInput{Act: x.act("2026-02-21")})
			return err
		}, "appeal: request r-1 was already appealed on 2026-02-11; a decision can be appealed once", ErrInvalidTransition},
		{"verify with an unknown level", func() error {
			x := opened(CCPA, TypeKnow)
			_, err := l.Verify(x.r, VerifyInput{Act: x.act("2026-02-02"), Method: "account_login", Level: "high"})
			return err
		}, "verify: request r-1: level: \"high\" is not a verification level; want one of `none`, `categories`, `specific_pieces`", ErrInvalidInput},
		{"a step before the last one", func() error {
			x := opened(CCPA, TypeKnow)
			x.must(l.Confirm(x.r, x.act("2026-02-05")))
			_, err := l.Verify(x.r, VerifyInput{Act: x.act("2026-02-04"), Method: "account_login", Level: LevelCategories})
			return err
		}, "verify: request r-1 cannot take a step at 2026-02-04T10:00:00Z, before its last step at 2026-02-05T10:00:00Z", ErrInvalidTransition},
		{"open a request to know under Nevada law", func() error {
			_, err := l.Open(OpenInput{Act: Act{At: at("2026-02-02")}, RequestID: "r-2", Subject: jane, Type: TypeKnow, Jurisdiction: Nevada, Channel: ChannelEmail})
			return err
		}, "open: request r-2: jurisdiction: right not available under this law: Nevada law (NRS 603A.345) gives only the right to opt out of sale, not a request to know", ErrInvalidInput},
		{"open with a misspelt type", func() error {
			_, err := l.Open(OpenInput{Act: Act{At: at("2026-02-02")}, RequestID: "r-2", Subject: jane, Type: "opt-out", Jurisdiction: CCPA, Channel: ChannelEmail})
			return err
		}, "open: request r-2: kind: \"opt-out\" is not a request type; want one of `know`, `access`, `delete`, `correct`, `opt_out`, `limit`", ErrInvalidInput},
		{"open without a subject", func() error {
			_, err := l.Open(OpenInput{Act: Act{At: at("2026-02-02")}, RequestID: "r-2", Type: TypeKnow, Jurisdiction: CCPA, Channel: ChannelEmail})
			return err
		}, "open: request r-2: subject: at least one identifier of the person the request is about is required", ErrInvalidInput},
		{"open with a scope on a deletion", func() error {
			_, err := l.Open(OpenInput{Act: Act{At: at("2026-02-02")}, RequestID: "r-2", Subject: jane, Type: TypeDelete, Jurisdiction: CCPA,
				Channel: ChannelEmail, Scope: LevelCategories})
			return err
		}, "open: request r-2: scope: applies only to requests to know and for access", ErrInvalidInput},
		{"open received after it was opened", func() error {
			_, err := l.Open(OpenInput{Act: Act{At: at("2026-02-02")}, RequestID: "r-2", Subject: jane, Type: TypeKnow, Jurisdiction: CCPA,
				Channel: ChannelEmail, ReceivedAt: at("2026-02-03")})
			return err
		}, "open: request r-2: received_at: is after the time the request was opened in Custody", ErrInvalidInput},
		{"a step without a time", func() error {
			x := opened(CCPA, TypeKnow)
			_, err := l.Confirm(x.r, Act{})
			return err
		}, "confirm: request r-1: at: is required: when the step was taken", ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.step()
			if err == nil {
				t.Fatal("the step was accepted")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) = false", tt.is)
			}
		})
	}
}

func TestLifecycle_ApplyRejectsEventsThatDoNotFit(t *testing.T) {
	l := newLifecycle(t, Config{})
	x := newRun(t, l).open(openInput("2026-03-02", CCPA, TypeKnow))
	other := newRun(t, l).open(OpenInput{Act: Act{At: at("2026-03-02")}, RequestID: "r-2", Type: TypeKnow, Jurisdiction: CCPA})
	e, err := l.Confirm(other.r, other.act("2026-03-03"))
	if err != nil {
		t.Fatal(err)
	}
	before := x.r.clone()
	if err := l.Apply(&x.r, e); err == nil || !strings.Contains(err.Error(), `the event is for request "r-2"`) {
		t.Fatalf("applying r-2's event to r-1: %v", err)
	}
	if !reflect.DeepEqual(before, x.r) {
		t.Fatal("a rejected event changed the request")
	}
	if err := l.Apply(&x.r, x.events[0]); err == nil || err.Error() != "open: request r-1 is already open (received 2026-03-02)" {
		t.Fatalf("opening twice: %v", err)
	}
	var fresh Request
	if err := l.Apply(&fresh, e); err == nil || err.Error() != "confirm: request r-2 was never opened" {
		t.Fatalf("a step of a request never opened: %v", err)
	}
}

func TestLifecycle_VerificationDecidesWhatMayBeDisclosed(t *testing.T) {
	l := newLifecycle(t, Config{})
	tests := []struct {
		name       string
		sought     Level
		levels     []Level // verifications in order
		scope      Level
		downgraded bool
	}{
		{"specific pieces verified", LevelSpecificPieces, []Level{LevelSpecificPieces}, LevelSpecificPieces, false},
		{"specific pieces failed, categories met: downgraded", LevelSpecificPieces, []Level{LevelCategories}, LevelCategories, true},
		{"specific pieces failed altogether", LevelSpecificPieces, []Level{LevelNone}, LevelNone, true},
		{"failed, then verified again", LevelSpecificPieces, []Level{LevelNone, LevelSpecificPieces}, LevelSpecificPieces, false},
		{"categories sought and verified to a higher standard", LevelCategories, []Level{LevelSpecificPieces}, LevelCategories, false},
		{"not yet verified", LevelSpecificPieces, nil, LevelNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := openInput("2026-03-02", CCPA, TypeKnow)
			in.Scope = tt.sought
			x := newRun(t, l).open(in)
			for i, lv := range tt.levels {
				x.must(l.Verify(x.r, VerifyInput{Act: x.act("2026-03-0" + string(rune('3'+i))), Method: MethodMatchingDataPoints, Level: lv}))
			}
			if x.r.Scope() != tt.scope || x.r.Downgraded() != tt.downgraded {
				t.Errorf("scope %s downgraded %v, want %s %v", x.r.Scope(), x.r.Downgraded(), tt.scope, tt.downgraded)
			}
		})
	}
}

func TestLifecycle_OptOutNeedsNoVerification(t *testing.T) {
	l := newLifecycle(t, Config{})
	x := newRun(t, l).open(OpenInput{Act: Act{At: at("2026-03-02")}, Type: TypeOptOut, Jurisdiction: CCPA, Channel: ChannelOptOutSignal})
	x.must(l.Complete(x.r, CompleteInput{Act: x.act("2026-03-03"), Outcome: OutcomeComplied}))
	if x.r.State != StateCompleted {
		t.Fatalf("state %s", x.r.State)
	}
}

func TestStatus_DueAndOverdue(t *testing.T) {
	l := newLifecycle(t, Config{})
	x := newRun(t, l).open(openInput("2026-03-02", CCPA, TypeKnow))
	tests := []struct {
		name    string
		now     string
		next    Duty
		by      string
		left    int
		overdue bool
	}{
		{"the day of receipt", "2026-03-02", DutyConfirm, "2026-03-16", 14, false},
		{"the last day to confirm is not overdue", "2026-03-16T23:00:00Z", DutyConfirm, "2026-03-16", 0, false},
		{"the day after", "2026-03-17", DutyConfirm, "2026-03-16", -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := l.Status(x.r, at(tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if st.Next == nil || st.Next.Duty != tt.next || st.Next.By.String() != tt.by || st.Next.DaysLeft != tt.left || st.Overdue != tt.overdue {
				t.Errorf("status %+v next %+v", st, st.Next)
			}
		})
	}

	// Confirmed late; answer overdue after 45 days; extended in time, due again.
	x.must(l.Confirm(x.r, x.act("2026-03-18")))
	x.must(l.Verify(x.r, VerifyInput{Act: x.act("2026-03-20"), Method: MethodAccountLogin, Level: LevelSpecificPieces}))
	st, _ := l.Status(x.r, at("2026-04-17"))
	if !st.Dues[0].Late || st.Dues[0].Overdue || st.Next.Duty != DutyRespond || !st.Next.Overdue || !st.Overdue {
		t.Fatalf("on 2026-04-17: %+v", st.Dues)
	}
	y := newRun(t, l).open(openInput("2026-03-02", CCPA, TypeKnow))
	y.must(l.Extend(y.r, ExtendInput{Act: y.act("2026-04-10"), Reason: "Records in archived systems"}))
	st, _ = l.Status(y.r, at("2026-04-17"))
	if st.Next.Duty != DutyConfirm || st.Dues[1].By.String() != "2026-05-31" || st.Dues[1].Overdue || st.Dues[1].DaysLeft != 44 {
		t.Fatalf("extended: %+v", st.Dues)
	}
	if st.Dues[1].Cite != "Cal. Civ. Code 1798.130(a)(2)(A); 11 CCR 7021(b)" {
		t.Errorf("cite %q", st.Dues[1].Cite)
	}
	// Answering before confirming meets the duty to confirm.
	z := newRun(t, l).open(openInput("2026-03-02", CCPA, TypeDelete))
	z.must(l.Deny(z.r, DenyInput{Act: z.act("2026-03-04"), Basis: BasisUnverifiable}))
	st, _ = l.Status(z.r, at("2026-06-01"))
	if st.Overdue || st.Next != nil || st.Dues[0].Done.String() != "2026-03-04" {
		t.Fatalf("answered first: %+v", st.Dues)
	}
}

func TestLifecycle_AppealUnderAStateLaw(t *testing.T) {
	l := newLifecycle(t, Config{})
	x := newRun(t, l).open(openInput("2026-03-02", Colorado, TypeAccess))
	x.must(l.Deny(x.r, DenyInput{Act: x.act("2026-04-01"), Basis: BasisNotCovered, Reason: "Not a Colorado resident"}))
	x.must(l.Appeal(x.r, AppealInput{Act: x.act("2026-04-20"), Reason: "I moved to Denver in 2025"}))
	st, _ := l.Status(x.r, at("2026-06-05"))
	if st.Next == nil || st.Next.Duty != DutyDecideAppeal || st.Next.By.String() != "2026-06-04" || !st.Overdue {
		t.Fatalf("appeal status: %+v", st.Next)
	}
	x.must(l.Extend(x.r, ExtendInput{Act: x.act("2026-05-01"), Reason: "Checking residency records"}))
	if x.r.AppealExtension == nil || x.r.AppealExtension.RespondBy.String() != "2026-08-03" || x.r.Extension != nil {
		t.Fatalf("appeal extension: %+v", x.r.AppealExtension)
	}
	x.must(l.Verify(x.r, VerifyInput{Act: x.act("2026-05-02"), Method: MethodIdentityDocument, Level: LevelSpecificPieces}))
	x.must(l.Complete(x.r, CompleteInput{Act: x.act("2026-05-10"), Outcome: OutcomeComplied, Report: &ReportRef{ID: "rep-2"}}))
	if x.r.State != StateCompleted || x.r.Response.Outcome != OutcomeDenied || x.r.Final().Outcome != OutcomeComplied {
		t.Fatalf("after the appeal: state %s response %+v final %+v", x.r.State, x.r.Response, x.r.Final())
	}
	// The CCPA gives no appeal deadline: an appeal is recorded, no duty is added.
	y := newRun(t, l).open(openInput("2026-03-02", CCPA, TypeDelete))
	y.must(l.Deny(y.r, DenyInput{Act: y.act("2026-03-05"), Basis: BasisUnverifiable}))
	y.must(l.Appeal(y.r, AppealInput{Act: y.act("2026-03-06")}))
	if st, _ := l.Status(y.r, at("2026-12-01")); len(st.Dues) != 2 || st.Next != nil {
		t.Fatalf("CCPA appeal: %+v", st.Dues)
	}
	if _, err := l.Extend(y.r, ExtendInput{Act: y.act("2026-03-07"), Reason: "x"}); err == nil {
		t.Fatal("extended an appeal the law sets no deadline for")
	}
}

func TestReplay_SkipsAndReportsStepsThatDoNotApply(t *testing.T) {
	l := newLifecycle(t, Config{})
	x := newRun(t, l).open(openInput("2026-03-02", CCPA, TypeKnow))
	x.must(l.Verify(x.r, VerifyInput{Act: x.act("2026-03-03"), Method: MethodAccountLogin, Level: LevelSpecificPieces}))
	first, err := l.Extend(x.r, ExtendInput{Act: x.act("2026-03-04"), Reason: "one"})
	if err != nil {
		t.Fatal(err)
	}
	// A second writer extended from the same state.
	second, err := l.Extend(x.r, ExtendInput{Act: x.act("2026-03-05"), Reason: "two"})
	if err != nil {
		t.Fatal(err)
	}
	y := newRun(t, l).open(OpenInput{Act: Act{At: at("2026-01-05")}, RequestID: "r-0", Type: TypeOptOut, Jurisdiction: CCPA})
	events := append(slices.Clone(x.events), first, second, y.events[0])
	got, err := l.Replay(events)
	if err == nil || !strings.Contains(err.Error(), "extend: request r-1 was already extended on 2026-03-04") {
		t.Fatalf("replay error: %v", err)
	}
	if len(got) != 2 || got[0].ID != "r-0" || got[1].ID != "r-1" || got[1].Extension.Reason != "one" {
		t.Fatalf("replay: %+v", got)
	}
}
