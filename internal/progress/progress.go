package progress

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the options.
const (
	// DefaultRedraw is the shortest time between two redraws on a terminal.
	DefaultRedraw = 100 * time.Millisecond
	// DefaultEvery is the time between two lines when not on a terminal.
	DefaultEvery = 5 * time.Second
	// DefaultWidth is the width of the bar, in characters.
	DefaultWidth = 30
)

// Option changes how a Reporter behaves.
type Option func(*settings)

type settings struct {
	now      func() time.Time
	terminal *bool
	redraw   time.Duration
	every    time.Duration
	width    int
	unit     string
}

// WithClock sets the clock (default time.Now); tests inject a fake one.
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// WithTerminal overrides the detection of whether w is a terminal.
func WithTerminal(terminal bool) Option { return func(s *settings) { s.terminal = &terminal } }

// WithRedraw sets the shortest time between two redraws on a terminal
// (default DefaultRedraw).
func WithRedraw(d time.Duration) Option { return func(s *settings) { s.redraw = d } }

// WithEvery sets the time between two plain lines when not on a terminal
// (default DefaultEvery).
func WithEvery(d time.Duration) Option { return func(s *settings) { s.every = d } }

// WithWidth sets the width of the bar in characters (default DefaultWidth).
func WithWidth(n int) Option { return func(s *settings) { s.width = n } }

// WithUnit names what is counted, e.g. "events" (default: nothing).
func WithUnit(unit string) Option { return func(s *settings) { s.unit = unit } }

// Reporter shows the progress of one operation. Add may be called from any
// number of goroutines; output is written only by the goroutine that finds
// a redraw due, one write per line, so w needs no locking of its own.
type Reporter struct {
	w     io.Writer
	label string
	cfg   settings
	tty   bool
	start time.Time

	total atomic.Int64
	done  atomic.Int64
	// due is the clock reading (UnixNano) from which the next redraw is due.
	due atomic.Int64

	mu       sync.Mutex // serialises drawing
	finished bool
	width    int // length of the last line drawn on a terminal
}

// New starts reporting on w an operation of total units (0: the total is
// not known) named label. On a terminal it draws the line at once.
func New(w io.Writer, total int64, label string, opts ...Option) *Reporter {
	cfg := settings{now: time.Now, redraw: DefaultRedraw, every: DefaultEvery, width: DefaultWidth}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.width <= 0 {
		cfg.width = DefaultWidth
	}
	r := &Reporter{w: w, label: label, cfg: cfg, start: cfg.now()}
	if cfg.terminal != nil {
		r.tty = *cfg.terminal
	} else {
		r.tty = isTerminal(w)
	}
	r.total.Store(max(total, 0))
	if r.tty {
		r.mu.Lock()
		r.draw(r.start, false)
		r.mu.Unlock()
		r.due.Store(r.start.Add(cfg.redraw).UnixNano())
	} else {
		r.due.Store(r.start.Add(cfg.every).UnixNano())
	}
	return r
}

// isTerminal reports whether w is a character device and TERM does not ask
// for a dumb terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Add counts n more units done and redraws if a redraw is due. It is safe
// for concurrent use; after Finish it only counts.
func (r *Reporter) Add(n int64) {
	r.done.Add(n)
	now := r.cfg.now()
	if now.UnixNano() < r.due.Load() || !r.mu.TryLock() {
		return // not due, or another goroutine is drawing right now
	}
	defer r.mu.Unlock()
	if r.finished || now.UnixNano() < r.due.Load() {
		return
	}
	if total := r.total.Load(); !r.tty && total > 0 && r.done.Load() >= total {
		return // complete: Finish prints the last line, once
	}
	r.draw(now, false)
	interval := r.cfg.every
	if r.tty {
		interval = r.cfg.redraw
	}
	r.due.Store(now.Add(interval).UnixNano())
}

// SetTotal changes the total, e.g. once it becomes known (0: unknown).
func (r *Reporter) SetTotal(total int64) { r.total.Store(max(total, 0)) }

// Count returns the units counted so far.
func (r *Reporter) Count() int64 { return r.done.Load() }

// Finish draws the final line (on a terminal, ending it with a newline).
// Calling it again does nothing.
func (r *Reporter) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.draw(r.cfg.now(), true)
	r.finished = true
}

// draw writes the current state. r.mu is held.
func (r *Reporter) draw(now time.Time, final bool) {
	done, total := r.done.Load(), r.total.Load()
	elapsed := now.Sub(r.start)
	var rate float64
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	var b strings.Builder
	if r.tty {
		b.WriteByte('\r')
		b.WriteString(r.terminalLine(done, total, rate, elapsed, final))
		line := b.Len() - 1
		if pad := r.width - line; pad > 0 {
			b.WriteString(strings.Repeat(" ", pad)) // wipe the rest of a longer previous line
		}
		r.width = line
		if final {
			b.WriteByte('\n')
		}
	} else {
		b.WriteString(r.plainLine(done, total, rate, elapsed, final))
		b.WriteByte('\n')
	}
	// Progress output is best effort: a broken terminal must not fail the
	// operation it reports on.
	_, _ = io.WriteString(r.w, b.String())
}

func (r *Reporter) terminalLine(done, total int64, rate float64, elapsed time.Duration, final bool) string {
	var b strings.Builder
	b.WriteString(r.label)
	if total > 0 {
		frac := min(float64(done)/float64(total), 1)
		fill := int(frac * float64(r.cfg.width))
		b.WriteString(" [")
		b.WriteString(strings.Repeat("=", fill))
		if fill < r.cfg.width {
			b.WriteByte('>')
			b.WriteString(strings.Repeat(" ", r.cfg.width-fill-1))
		}
		fmt.Fprintf(&b, "] %5.1f%% %s/%s", frac*100, Thousands(done), Thousands(total))
	} else {
		b.WriteString(" " + Thousands(done))
	}
	r.unit(&b)
	fmt.Fprintf(&b, "  %s/s", Thousands(int64(rate)))
	switch {
	case final || total <= 0 || done >= total:
		b.WriteString("  " + Duration(elapsed))
	case rate > 0:
		b.WriteString("  ETA " + Duration(eta(done, total, rate)))
	default:
		b.WriteString("  ETA --")
	}
	return b.String()
}

func (r *Reporter) plainLine(done, total int64, rate float64, elapsed time.Duration, final bool) string {
	var b strings.Builder
	b.WriteString(r.label + ": ")
	if final {
		b.WriteString("done, ")
	}
	b.WriteString(Thousands(done))
	if total > 0 {
		fmt.Fprintf(&b, "/%s", Thousands(total))
	}
	r.unit(&b)
	if total > 0 {
		fmt.Fprintf(&b, " (%.1f%%)", min(float64(done)/float64(total), 1)*100)
	}
	fmt.Fprintf(&b, ", %s/s", Thousands(int64(rate)))
	if !final && total > done && rate > 0 {
		b.WriteString(", ETA " + Duration(eta(done, total, rate)))
	} else {
		b.WriteString(", " + Duration(elapsed))
	}
	return b.String()
}

func (r *Reporter) unit(b *strings.Builder) {
	if r.cfg.unit != "" {
		b.WriteString(" " + r.cfg.unit)
	}
}

func eta(done, total int64, rate float64) time.Duration {
	return time.Duration(float64(total-done) / rate * float64(time.Second))
}

// Thousands formats n with commas between groups of three digits.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Duration formats d compactly for people: 850ms, 12s, 3m05s, 1h02m.
func Duration(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
