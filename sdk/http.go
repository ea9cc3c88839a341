package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// EventsPath is the ingest endpoint under a Custody base URL.
const EventsPath = "/v1/events"

// maxResponseBytes bounds how much of an answer is read (10,000 verdicts
// with their field errors fit easily).
const maxResponseBytes = 32 << 20

// HTTPTransport delivers batches to Custody's POST /v1/events as NDJSON.
//
// Answers: 200 delivered; 207 delivered except the rejected events, which
// are reported with their field errors; 422 all rejected, likewise; 503,
// 5xx, 408, 429 and network errors are retried (honouring Retry-After);
// other statuses (400, 401, 403, 404, 413, …) fail the batch without retry.
type HTTPTransport struct {
	// URL is Custody's base URL, e.g. http://127.0.0.1:8080.
	URL string
	// Token is sent as a bearer token when set (a token with the publisher
	// role).
	Token string
	// Client makes the requests. Default http.DefaultClient; each attempt
	// is bounded by Config.SendTimeout anyway.
	Client *http.Client
}

// Validate checks URL.
func (t *HTTPTransport) Validate() error {
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("sdk: HTTPTransport.URL must be an http(s) base URL such as http://127.0.0.1:8080, got %q", t.URL)
	}
	return nil
}

func (t *HTTPTransport) endpoint() string {
	base := strings.TrimSuffix(t.URL, "/")
	if strings.HasSuffix(base, EventsPath) {
		return base
	}
	return base + EventsPath
}

// httpResponse is the body of every answer to POST /v1/events.
type httpResponse struct {
	Accepted   int    `json:"accepted"`
	Duplicates int    `json:"duplicates"`
	Rejected   int    `json:"rejected"`
	Error      string `json:"error"`
	Results    []struct {
		Index  int          `json:"index"`
		ID     string       `json:"id"`
		Status string       `json:"status"`
		Errors []FieldError `json:"errors"`
	} `json:"results"`
}

// Send posts the batch and interprets the answer.
func (t *HTTPTransport) Send(ctx context.Context, events []*Event) (Result, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body) // one event per line
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return Result{}, Permanent(fmt.Errorf("encode event %s: %w", e.ID, err))
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint(), &body)
	if err != nil {
		return Result{}, Permanent(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "custody-sdk-go")
	if t.Token != "" {
		req.Header.Set("Authorization", "Bearer "+t.Token)
	}
	client := t.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, &SendError{Err: fmt.Errorf("post %s: %w", t.endpoint(), err), Retryable: true}
	}
	defer resp.Body.Close()
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	var answer httpResponse
	parsed := readErr == nil && json.Unmarshal(raw, &answer) == nil

	code := resp.StatusCode
	fail := func(retryable bool) error {
		msg := answer.Error
		if msg == "" && !parsed {
			msg = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		}
		err := fmt.Errorf("custody answered %d %s", code, http.StatusText(code))
		if msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		se := &SendError{Err: err, StatusCode: code, Retryable: retryable}
		if retryable {
			se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		return se
	}
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		return Result{}, fail(true)
	case code == http.StatusOK:
		// Delivered; the counts are informative only.
		if !parsed {
			return Result{Accepted: len(events)}, nil
		}
		return Result{Accepted: answer.Accepted, Duplicates: answer.Duplicates}, nil
	case code != http.StatusMultiStatus && code != http.StatusUnprocessableEntity:
		return Result{}, fail(false)
	}
	// 207 or 422: a verdict per event. Without one verdict per event the
	// answer cannot say which events were refused.
	if !parsed || len(answer.Results) != len(events) {
		return Result{}, fail(false)
	}
	res := Result{Accepted: answer.Accepted, Duplicates: answer.Duplicates}
	for i, r := range answer.Results {
		if r.Status != "rejected" {
			continue
		}
		id := r.ID
		if id == "" {
			id = events[i].ID.String()
		}
		res.Rejected = append(res.Rejected, Rejection{Index: i, ID: id, Errors: r.Errors})
	}
	if code == http.StatusUnprocessableEntity && len(res.Rejected) != len(events) {
		return Result{}, fail(false)
	}
	return res, nil
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}
