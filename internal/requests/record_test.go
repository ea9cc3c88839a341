package requests

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestRecord_Holds7101FieldsAndIsKept24Months(t *testing.T) {
	l := newLifecycle(t, Config{})
	x := newRun(t, l).open(OpenInput{Act: Act{At: at("2026-03-02")}, Type: TypeKnow, Jurisdiction: CCPA,
		Channel: ChannelTollFree, Agent: "Acme Agents", Scope: LevelSpecificPieces})
	open := l.Record(x.r)
	if open.KeepUntil != nil || open.Expired(date("2030-01-01")) || open.ResponseDate != nil || open.Outcome != "" {
		t.Fatalf("an open request's record: %+v", open)
	}
	x.must(l.Verify(x.r, VerifyInput{Act: x.act("2026-03-04"), Method: MethodMatchingDataPoints, Level: LevelCategories}))
	x.must(l.Complete(x.r, CompleteInput{Act: x.act("2026-03-31"), Outcome: OutcomeCompliedInPart, Basis: BasisUnverifiable,
		Reason: "Specific pieces need a higher degree of verification", Report: &ReportRef{ID: "rep-1"}}))
	rec := l.Record(x.r)
	b, _ := json.Marshal(rec)
	want := `{"request_id":"r-1","tenant":"ink","received":"2026-03-02","type":"know","jurisdiction":"ccpa","channel":"toll_free",` +
		`"by_agent":true,"verification_method":"matching_data_points","verification_level":"categories",` +
		`"response_date":"2026-03-31","outcome":"complied_in_part","denial_basis":"unverifiable","keep_until":"2028-03-31"}`
	if string(b) != want {
		t.Fatalf("record:\n got %s\nwant %s", b, want)
	}
	if rec.Expired(date("2028-03-31")) || !rec.Expired(date("2028-04-01")) {
		t.Fatal("the record must be kept through 2028-03-31 and no longer")
	}
	// An appeal reopens the request: the record is kept until it is decided.
	x.must(l.Appeal(x.r, AppealInput{Act: x.act("2028-03-30")}))
	if rec := l.Record(x.r); rec.KeepUntil != nil || rec.AppealDate.String() != "2028-03-30" {
		t.Fatalf("appealed: %+v", rec)
	}
}

func TestMetrics_PerTypeForTheYear(t *testing.T) {
	l := newLifecycle(t, Config{})
	var reqs []Request
	n := 0
	add := func(typ Type, received, answered string, deny bool) {
		n++
		x := newRun(t, l).open(OpenInput{Act: Act{At: at(received)}, RequestID: fmt.Sprintf("r-%d", n), Type: typ, Jurisdiction: CCPA})
		if answered != "" {
			switch {
			case deny:
				x.must(l.Deny(x.r, DenyInput{Act: x.act(answered), Basis: BasisUnverifiable}))
			case typ.NeedsVerification():
				x.must(l.Verify(x.r, VerifyInput{Act: x.act(received), Method: MethodAccountLogin, Level: LevelSpecificPieces}))
				x.must(l.Complete(x.r, CompleteInput{Act: x.act(answered), Outcome: OutcomeComplied, Report: &ReportRef{ID: "rep"}}))
			default:
				x.must(l.Complete(x.r, CompleteInput{Act: x.act(answered), Outcome: OutcomeComplied}))
			}
		}
		reqs = append(reqs, x.r)
	}
	add(TypeKnow, "2026-01-05", "2026-01-15", false)   // 10 days
	add(TypeKnow, "2026-02-01", "2026-03-03", false)   // 30 days
	add(TypeKnow, "2026-06-01", "2026-06-21", true)    // 20 days, denied
	add(TypeKnow, "2026-12-20", "", false)             // pending
	add(TypeKnow, "2025-12-31", "2026-01-02", false)   // the year before: not counted
	add(TypeDelete, "2026-03-01", "2026-03-08", false) // 7 days
	add(TypeOptOut, "2026-03-01", "2026-03-02", false) // 1 day
	add(TypeOptOut, "2026-04-01", "2026-04-04", false) // 3 days

	got := l.Metrics(reqs, 2026)
	want := map[Type]Metrics{
		TypeKnow:    {Year: 2026, Type: TypeKnow, Received: 4, Complied: 2, Denied: 1, Pending: 1, MedianDays: 20},
		TypeAccess:  {Year: 2026, Type: TypeAccess},
		TypeDelete:  {Year: 2026, Type: TypeDelete, Received: 1, Complied: 1, MedianDays: 7},
		TypeCorrect: {Year: 2026, Type: TypeCorrect},
		TypeOptOut:  {Year: 2026, Type: TypeOptOut, Received: 2, Complied: 2, MedianDays: 2},
		TypeLimit:   {Year: 2026, Type: TypeLimit},
	}
	if len(got) != len(Types()) {
		t.Fatalf("%d rows, want one per type", len(got))
	}
	for i, m := range got {
		if m.Type != Types()[i] || m != want[m.Type] {
			t.Errorf("row %d: got %+v, want %+v", i, m, want[m.Type])
		}
	}
}

func TestMetrics_YearFollowsTheBusinessTimeZone(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	l := newLifecycle(t, Config{Location: la})
	// 2027-01-01T03:00Z is still 2026 in Los Angeles.
	x := newRun(t, l).open(OpenInput{Act: Act{At: at("2027-01-01T03:00:00Z")}, Type: TypeDelete, Jurisdiction: CCPA})
	if m := l.Metrics([]Request{x.r}, 2026); m[2].Received != 1 {
		t.Fatalf("2026 delete row: %+v", m[2])
	}
}

func TestConfig_ValidateNamesTheField(t *testing.T) {
	err := Config{Holidays: []string{"2026-12-25", "25.12.2026"}}.Validate()
	if err == nil || err.Error() != `requests: Config.Holidays[1]: "25.12.2026" is not a date of the form 2006-01-02` {
		t.Fatalf("Validate: %v", err)
	}
	if _, err := NewLifecycle(Config{Holidays: []string{"x"}}); err == nil {
		t.Fatal("NewLifecycle accepted a bad config")
	}
}
