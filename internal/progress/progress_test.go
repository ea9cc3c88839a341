package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestPlain_PrintsALineEveryIntervalAndAtTheEnd(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	r := New(&buf, 1000, "load", WithClock(c.now), WithTerminal(false), WithUnit("events"))
	if buf.Len() != 0 {
		t.Fatalf("plain mode printed at start: %q", buf.String())
	}
	r.Add(100)
	c.advance(4 * time.Second)
	r.Add(100)
	if buf.Len() != 0 {
		t.Fatalf("printed before the interval: %q", buf.String())
	}
	c.advance(time.Second) // 5 s after start: due
	r.Add(300)
	c.advance(time.Second)
	r.Add(100) // not due again for 5 s
	r.Finish()
	r.Finish() // idempotent
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		"load: 500/1,000 events (50.0%), 100/s, ETA 5s",
		"load: done, 600/1,000 events (60.0%), 100/s, 6s",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(buf.String(), "\r") {
		t.Error("plain output contains a carriage return")
	}
}

func TestTerminal_RedrawsOneLineAtMostTenTimesASecond(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	r := New(&buf, 200, "rebuild", WithClock(c.now), WithTerminal(true), WithWidth(10))
	if got := buf.String(); !strings.HasPrefix(got, "\rrebuild [>         ]   0.0% 0/200") {
		t.Fatalf("first draw = %q", got)
	}
	draws := strings.Count(buf.String(), "\r")
	for range 50 { // 50 adds within 50 ms: no redraw is due
		c.advance(time.Millisecond)
		r.Add(1)
	}
	if n := strings.Count(buf.String(), "\r"); n != draws {
		t.Fatalf("redrew %d times within 100 ms", n-draws)
	}
	c.advance(50 * time.Millisecond)
	r.Add(50) // 100 events after 100 ms
	if n := strings.Count(buf.String(), "\r"); n != draws+1 {
		t.Fatalf("want one redraw after 100 ms, got %d", n-draws)
	}
	last := buf.String()[strings.LastIndex(buf.String(), "\r"):]
	if want := "\rrebuild [=====>    ]  50.0% 100/200  1,000/s  ETA 100ms"; !strings.HasPrefix(last, want) {
		t.Fatalf("redraw = %q, want prefix %q", last, want)
	}
	r.Add(100)
	r.Finish()
	if !strings.HasSuffix(buf.String(), "\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("terminal output must end with exactly one newline: %q", buf.String())
	}
	final := buf.String()[strings.LastIndex(buf.String(), "\r"):]
	if !strings.Contains(final, "[==========] 100.0% 200/200") {
		t.Errorf("final line = %q", final)
	}
}

func TestTerminal_ShorterLineWipesTheLongerOne(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	r := New(&buf, 0, "scan", WithClock(c.now), WithTerminal(true))
	c.advance(time.Second)
	r.Add(123456789) // a long line
	c.advance(time.Hour)
	r.Finish() // the rate drops: a shorter line
	draws := strings.Split(strings.TrimPrefix(strings.TrimSuffix(buf.String(), "\n"), "\r"), "\r")
	if len(draws) != 3 {
		t.Fatalf("want 3 draws, got %q", draws)
	}
	if len(draws[2]) < len(draws[1]) {
		t.Errorf("final draw %q is shorter than the previous %q: leftovers stay on screen", draws[2], draws[1])
	}
	if !strings.HasPrefix(draws[1], "scan 123,456,789  123,456,789/s") {
		t.Errorf("unknown-total draw = %q", draws[1])
	}
}

func TestAdd_ConcurrentCallsCountEverything(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, 0, "x", WithTerminal(true), WithRedraw(time.Nanosecond))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				r.Add(1)
			}
		})
	}
	wg.Wait()
	r.Finish()
	if r.Count() != 8000 {
		t.Fatalf("count = %d, want 8000", r.Count())
	}
	if !strings.Contains(buf.String(), "x 8,000") {
		t.Errorf("final line does not show 8,000: %q", buf.String()[strings.LastIndex(buf.String(), "\r"):])
	}
}

func TestAdd_AfterFinishOnlyCounts(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	r := New(&buf, 10, "x", WithClock(c.now), WithTerminal(false), WithEvery(time.Second))
	r.Finish()
	n := buf.Len()
	c.advance(time.Minute)
	r.Add(5)
	if buf.Len() != n {
		t.Errorf("Add after Finish printed %q", buf.String()[n:])
	}
	if r.Count() != 5 {
		t.Errorf("count = %d", r.Count())
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Thousands(0), "0"},
		{Thousands(999), "999"},
		{Thousands(1000), "1,000"},
		{Thousands(-1234567), "-1,234,567"},
		{Duration(850 * time.Millisecond), "850ms"},
		{Duration(12 * time.Second), "12s"},
		{Duration(185 * time.Second), "3m05s"},
		{Duration(62 * time.Minute), "1h02m"},
		{Duration(-time.Second), "0s"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestNotATerminal_BufferIsPlain(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, 3, "x")
	r.Add(3)
	r.Finish()
	if strings.Contains(buf.String(), "\r") || !strings.HasPrefix(buf.String(), "x: done, 3/3") {
		t.Errorf("a bytes.Buffer is not a terminal, got %q", buf.String())
	}
}
