package requests

import (
	"testing"
	"time"
	_ "time/tzdata" // the tests use America/Los_Angeles wherever they run
)

func date(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestDate_AddMonthsClampsToTheMonthsLastDay(t *testing.T) {
	tests := []struct {
		from   string
		months int
		want   string
	}{
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"}, // leap year
		{"2026-03-31", 1, "2026-04-30"},
		{"2026-01-31", 3, "2026-04-30"},
		{"2026-12-31", 1, "2027-01-31"}, // across the year end
		{"2026-11-30", 3, "2027-02-28"},
		{"2026-03-05", 1, "2026-04-05"},
		{"2026-02-28", 1, "2026-03-28"}, // not the month's end: same day
	}
	for _, tt := range tests {
		if got := date(tt.from).AddMonths(tt.months); got != date(tt.want) {
			t.Errorf("%s + %d months = %s, want %s", tt.from, tt.months, got, tt.want)
		}
	}
}

func TestCalendar_BusinessDaysSkipWeekendsAndHolidays(t *testing.T) {
	cal := NewCalendar(time.UTC, date("2026-12-25"), date("2027-01-01"))
	tests := []struct {
		name string
		from string
		n    int
		want string
	}{
		{"Monday + 10", "2026-03-02", 10, "2026-03-16"},
		{"Friday + 1 is Monday", "2026-03-06", 1, "2026-03-09"},
		{"received on a Saturday counts from Monday", "2026-01-31", 10, "2026-02-13"},
		{"received on the Friday before: same tenth day", "2026-01-30", 10, "2026-02-13"},
		{"holidays do not count", "2026-12-18", 15, "2027-01-12"},
		{"zero days is the same day", "2026-03-07", 0, "2026-03-07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.AddBusinessDays(date(tt.from), tt.n); got != date(tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if got := cal.NextBusinessDay(date("2026-12-25")); got != date("2026-12-28") {
		t.Errorf("NextBusinessDay(Fri Dec 25, a holiday) = %s, want Mon Dec 28", got)
	}
	if got := cal.NextBusinessDay(date("2026-03-02")); got != date("2026-03-02") {
		t.Errorf("NextBusinessDay(a Monday) = %s, want the same day", got)
	}
}

func TestCalendar_DatesAreInTheBusinessTimeZone(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	cal := NewCalendar(la)
	at := time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC) // 9 pm on Feb 28 in Los Angeles
	if got := cal.DateOf(at); got != date("2026-02-28") {
		t.Errorf("DateOf = %s, want 2026-02-28", got)
	}
	end := cal.EndOf(date("2026-02-28"))
	if want := time.Date(2026, 2, 28, 23, 59, 59, 0, la); !end.Equal(want) {
		t.Errorf("EndOf = %s, want %s", end, want)
	}
}

func TestParseDate_RejectsOtherForms(t *testing.T) {
	for _, s := range []string{"", "2026-3-2", "02/03/2026", "2026-02-30"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) succeeded", s)
		}
	}
	if d := date("2026-03-02"); d.String() != "2026-03-02" || date("2026-03-01").DaysUntil(date("2026-04-01")) != 31 {
		t.Errorf("round trip or DaysUntil wrong: %s", d)
	}
}
