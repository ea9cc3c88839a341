package requests

import (
	"fmt"
	"time"
)

// Date is a calendar date without a time of day or zone. Deadlines are
// dates: a response due on 2026-03-02 is on time until that day ends in the
// business's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate reads a date written as 2006-01-02.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date of the form 2006-01-02", s)
	}
	return DateOf(t, time.UTC), nil
}

// String returns the date as 2006-01-02.
func (d Date) String() string { return d.midnight().Format(time.DateOnly) }

// MarshalText writes the date as 2006-01-02.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a date written as 2006-01-02.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// midnight is the start of d in UTC; date arithmetic works on it because UTC
// has no daylight-saving jumps.
func (d Date) midnight() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// AddDays returns the date n calendar days after d (before, if n < 0).
func (d Date) AddDays(n int) Date { return DateOf(d.midnight().AddDate(0, 0, n), time.UTC) }

// AddMonths returns the same day n months later; when that month is shorter,
// the last day of that month (Jan 31 + 1 month = Feb 28, or 29 in a leap
// year). This is how Regulation (EEC, Euratom) No 1182/71 Art. 3(2)(c)
// counts periods in months, which the GDPR's "one month" follows.
// time.AddDate would instead normalise Feb 31 to Mar 3.
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return Date{first.Year(), first.Month(), min(d.Day, last)}
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.midnight().Weekday() }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int { return d.midnight().Compare(o.midnight()) }

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// DaysUntil returns the number of calendar days from d to o (negative when o
// is before d).
func (d Date) DaysUntil(o Date) int {
	return int(o.midnight().Sub(d.midnight()).Hours() / 24)
}

// Calendar knows the business's time zone and which days are business days:
// Monday to Friday, except the holidays it was given.
type Calendar struct {
	loc      *time.Location
	holidays map[Date]bool
}

// NewCalendar returns a calendar in loc (nil means UTC) with the given
// holidays.
func NewCalendar(loc *time.Location, holidays ...Date) Calendar {
	if loc == nil {
		loc = time.UTC
	}
	c := Calendar{loc: loc, holidays: map[Date]bool{}}
	for _, h := range holidays {
		c.holidays[h] = true
	}
	return c
}

// Location returns the calendar's time zone.
func (c Calendar) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// DateOf returns the date of t in the calendar's time zone.
func (c Calendar) DateOf(t time.Time) Date { return DateOf(t, c.Location()) }

// EndOf returns the last instant of d in the calendar's time zone: a
// deadline falling on d is met by anything up to and including it.
func (c Calendar) EndOf(d Date) time.Time {
	next := d.AddDays(1)
	return time.Date(next.Year, next.Month, next.Day, 0, 0, 0, 0, c.Location()).Add(-time.Second)
}

// IsBusinessDay reports whether d is a weekday and not a holiday.
func (c Calendar) IsBusinessDay(d Date) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday && !c.holidays[d]
}

// AddBusinessDays returns the n-th business day after d. The day of receipt
// never counts, whatever day it is: a request received on a Saturday or a
// Friday has the same tenth business day.
func (c Calendar) AddBusinessDays(d Date, n int) Date {
	for n > 0 {
		d = d.AddDays(1)
		if c.IsBusinessDay(d) {
			n--
		}
	}
	return d
}

// NextBusinessDay returns d if it is a business day, else the first
// business day after it.
func (c Calendar) NextBusinessDay(d Date) Date {
	for !c.IsBusinessDay(d) {
		d = d.AddDays(1)
	}
	return d
}
