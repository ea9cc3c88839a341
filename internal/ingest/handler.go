package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/event"
)

// Verdict is what became of one event. Stored and Duplicate are the sink's
// answers; the handler adds Rejected.
type Verdict string

const (
	Accepted  Verdict = "accepted"
	Duplicate Verdict = "duplicate"
	Rejected  Verdict = "rejected"
)

// Sink takes validated events.
//
// Contract: Accept returns one verdict per event, Accepted or Duplicate, in
// input order, and only after every Accepted event is durable (in the log or
// the broker); on error nothing may be assumed accepted and the client is
// told to retry, which is safe because delivery is idempotent by event id.
type Sink interface {
	Accept(ctx context.Context, events []*event.Event) ([]Verdict, error)
}

// Rejections keeps rejected events for inspection and replay.
//
// Contract: Keep stores every result it is given (all rejected) or returns
// an error; the handler still answers the client with the field errors
// when it fails, and logs and counts the failure.
type Rejections interface {
	Keep(ctx context.Context, rejected []event.Result) error
}

// Config bounds requests.
type Config struct {
	// MaxBodyBytes caps a request body (default 10 MiB).
	MaxBodyBytes int64
	// MaxEvents caps events per request (default 10,000).
	MaxEvents int
	// RetryAfterSeconds is sent with 503 when the sink fails (default 5).
	RetryAfterSeconds int
}

func (c *Config) setDefaults() {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 10 << 20
	}
	if c.MaxEvents == 0 {
		c.MaxEvents = 10_000
	}
	if c.RetryAfterSeconds == 0 {
		c.RetryAfterSeconds = 5
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.MaxBodyBytes < 1<<10:
		return fmt.Errorf("ingest: max_body_bytes must be at least 1024, got %d", c.MaxBodyBytes)
	case c.MaxEvents < 1:
		return fmt.Errorf("ingest: max_events must be positive, got %d", c.MaxEvents)
	case c.RetryAfterSeconds < 1:
		return fmt.Errorf("ingest: retry_after_seconds must be positive, got %d", c.RetryAfterSeconds)
	}
	return nil
}

// Handler serves POST /v1/events.
type Handler struct {
	cfg      Config
	opts     event.Options
	sink     Sink
	rejected Rejections // nil: rejected events are only answered, not kept
	writable func(context.Context) error
	log      *slog.Logger
	events   *prometheus.CounterVec
}

// KeepRejected makes the handler store every event it rejects.
func (h *Handler) KeepRejected(r Rejections) { h.rejected = r }

// RequireWritable makes the handler ask writable before it hands events to
// the sink: while it returns an error (the log cannot be written: the
// pipeline's appends fail), requests are answered 503 with Retry-After and
// nothing is accepted, rather than acknowledged into a backlog the log
// cannot take.
func (h *Handler) RequireWritable(writable func(context.Context) error) { h.writable = writable }

// NewHandler returns the handler. opts configures validation (its
// Vocabulary is the taxonomy); registry receives the ingest metrics.
func NewHandler(cfg Config, opts event.Options, sink Sink, log *slog.Logger, registry prometheus.Registerer) (*Handler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.AllowInternalTypes = false // request.* events are Custody's own
	h := &Handler{cfg: cfg, opts: opts, sink: sink, log: log,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custody_ingest_events_total", Help: "Events received over HTTP by verdict.",
		}, []string{"verdict"})}
	if err := registry.Register(h.events); err != nil {
		return nil, fmt.Errorf("register ingest metrics: %w", err)
	}
	return h, nil
}

// Response is the body of every answer to POST /v1/events.
type Response struct {
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Rejected   int           `json:"rejected"`
	Results    []EventResult `json:"results,omitempty"`
	Error      string        `json:"error,omitempty"`
}

// EventResult is the verdict on one event of the request.
type EventResult struct {
	Index  int                `json:"index"`
	ID     string             `json:"id,omitempty"`
	Status Verdict            `json:"status"`
	Errors []event.FieldError `json:"errors,omitempty"`
}

// readBody reads the whole body, at most limit bytes. A body with a
// declared length within the limit is read into one buffer of that size:
// io.ReadAll's growing and copying took 2% of a node's CPU with requests of
// 10,000 events (measured with a profile of the end-to-end benchmark). The
// server's body reader ends at the declared length.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n > 0 && n <= limit {
		body := make([]byte, n)
		if _, err := io.ReadFull(rd, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return io.ReadAll(rd)
}

// ServeHTTP answers 200 when every event was accepted or a duplicate, 207
// when some were rejected, 422 when all were (an unsupported Content-Type or
// an empty body is one rejected result), 413 for bodies over the limits, and
// 503 with Retry-After when the sink failed (nothing accepted).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, h.cfg.MaxBodyBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds %d bytes; split the batch", h.cfg.MaxBodyBytes))
			return
		}
		h.fail(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	results := decodeBatch(body, r.Header.Get("Content-Type"), h.opts)
	if len(results) > h.cfg.MaxEvents {
		h.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("batch has %d events, the limit is %d; split it", len(results), h.cfg.MaxEvents))
		return
	}
	resp := Response{Results: make([]EventResult, len(results))}
	var good []*event.Event
	var goodAt []int
	var bad []event.Result
	for i, res := range results {
		resp.Results[i] = EventResult{Index: res.Index, ID: res.ID, Status: Rejected, Errors: res.Errors}
		if res.Event != nil {
			good = append(good, res.Event)
			goodAt = append(goodAt, i)
		} else {
			bad = append(bad, res)
		}
	}
	if len(bad) > 0 && h.rejected != nil {
		if err := h.rejected.Keep(r.Context(), bad); err != nil {
			h.log.ErrorContext(r.Context(), "could not keep rejected events", "events", len(bad), "err", err)
			h.events.WithLabelValues("rejected_not_kept").Add(float64(len(bad)))
		}
	}
	if len(good) > 0 && h.writable != nil {
		if err := h.writable(r.Context()); err != nil {
			h.log.WarnContext(r.Context(), "the event log cannot be written; client told to retry", "events", len(good), "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(h.cfg.RetryAfterSeconds))
			h.fail(w, http.StatusServiceUnavailable, "the event log cannot be written now; nothing from this request was accepted; retry the whole request later")
			return
		}
	}
	if len(good) > 0 {
		verdicts, err := h.sink.Accept(r.Context(), good)
		if err == nil && len(verdicts) != len(good) {
			err = fmt.Errorf("sink returned %d verdicts for %d events", len(verdicts), len(good))
		}
		if err != nil {
			h.log.ErrorContext(r.Context(), "ingest sink failed; client told to retry", "events", len(good), "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(h.cfg.RetryAfterSeconds))
			h.fail(w, http.StatusServiceUnavailable, "storage is unavailable; nothing from this request was accepted; retry the whole request")
			return
		}
		for j, v := range verdicts {
			resp.Results[goodAt[j]].Status = v
		}
	}
	for _, res := range resp.Results {
		switch res.Status {
		case Accepted:
			resp.Accepted++
		case Duplicate:
			resp.Duplicates++
		default:
			resp.Rejected++
		}
	}
	h.events.WithLabelValues(string(Accepted)).Add(float64(resp.Accepted))
	h.events.WithLabelValues(string(Duplicate)).Add(float64(resp.Duplicates))
	h.events.WithLabelValues(string(Rejected)).Add(float64(resp.Rejected))
	code := http.StatusOK
	switch {
	case resp.Rejected == len(resp.Results):
		code = http.StatusUnprocessableEntity
	case resp.Rejected > 0:
		code = http.StatusMultiStatus
	}
	writeJSON(w, code, resp)
}

func (h *Handler) fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, Response{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
