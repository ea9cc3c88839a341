package sdk

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/event"
)

func TestHTTPTransportPostsNDJSONToTheEventsEndpoint(t *testing.T) {
	type seen struct {
		path, method, contentType, auth string
		lines                           int
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{path: r.URL.Path, method: r.Method, contentType: r.Header.Get("Content-Type"), auth: r.Header.Get("Authorization")}
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if _, errs := event.Decode(sc.Bytes(), event.Options{Vocabulary: event.AnyTerm}); len(errs) > 0 {
				t.Errorf("line %d: %v", s.lines, errs)
			}
			s.lines++
		}
		got <- s
		_, _ = w.Write([]byte(`{"accepted":2,"duplicates":1,"rejected":0}`))
	}))
	defer srv.Close()

	tr := &HTTPTransport{URL: srv.URL + "/", Token: "s3cret"}
	evs := orders(3)
	for _, e := range evs {
		e.Source = "web"
	}
	res, err := tr.Send(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Duplicates != 1 || len(res.Rejected) != 0 {
		t.Errorf("result %+v", res)
	}
	s := <-got
	want := seen{path: "/v1/events", method: "POST", contentType: "application/x-ndjson", auth: "Bearer s3cret", lines: 3}
	if s != want {
		t.Errorf("request %+v, want %+v", s, want)
	}
}

func TestHTTPTransportClassifiesAnswers(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		retryable  bool
		wantAfter  time.Duration
		wantErr    bool
		rejected   int
	}{
		{"200", 200, "", `{"accepted":2}`, false, 0, false, 0},
		{"200 without a body", 200, "", ``, false, 0, false, 0},
		{"207", 207, "", `{"accepted":1,"rejected":1,"results":[{"index":0,"status":"accepted"},{"index":1,"status":"rejected","errors":[{"path":"data","reason":"x"}]}]}`, false, 0, false, 1},
		{"422", 422, "", `{"rejected":2,"results":[{"index":0,"status":"rejected"},{"index":1,"status":"rejected"}]}`, false, 0, false, 2},
		{"422 for the request as a whole", 422, "", `{"rejected":1,"results":[{"index":0,"status":"rejected","errors":[{"reason":"unsupported Content-Type"}]}]}`, false, 0, true, 0},
		{"207 without verdicts", 207, "", `oops`, false, 0, true, 0},
		{"400", 400, "", `{"error":"read body"}`, false, 0, true, 0},
		{"401", 401, "", `{"error":"token required"}`, false, 0, true, 0},
		{"403", 403, "", ``, false, 0, true, 0},
		{"404", 404, "", `not found`, false, 0, true, 0},
		{"413", 413, "", `{"error":"split the batch"}`, false, 0, true, 0},
		{"408", 408, "", ``, true, 0, true, 0},
		{"429 with Retry-After", 429, "3", ``, true, 3 * time.Second, true, 0},
		{"500", 500, "", ``, true, 0, true, 0},
		{"502 from a proxy", 502, "", `<html>bad gateway</html>`, true, 0, true, 0},
		{"503 with Retry-After", 503, "5", `{"error":"storage is unavailable"}`, true, 5 * time.Second, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			res, err := (&HTTPTransport{URL: srv.URL}).Send(context.Background(), orders(2))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Send = %+v, %v; want error %t", res, err, tt.wantErr)
			}
			if len(res.Rejected) != tt.rejected {
				t.Errorf("rejected %+v, want %d", res.Rejected, tt.rejected)
			}
			if err == nil {
				return
			}
			retry, after := classify(err)
			if retry != tt.retryable || after != tt.wantAfter {
				t.Errorf("classified retryable %t after %s, want %t after %s (%v)", retry, after, tt.retryable, tt.wantAfter, err)
			}
			var se *SendError
			if !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Errorf("error %v does not carry status %d", err, tt.status)
			}
		})
	}
}

func TestHTTPTransportRetriesNetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := (&HTTPTransport{URL: url}).Send(context.Background(), orders(1))
	if retry, _ := classify(err); err == nil || !retry {
		t.Errorf("Send to a closed port = %v, want a retryable error", err)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		h    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"7", 7 * time.Second},
		{" 2 ", 2 * time.Second},
		{"999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.h, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tt.h, got, tt.want)
		}
	}
}

func TestHTTPTransportURLMayNameTheEndpoint(t *testing.T) {
	for _, u := range []string{"http://c:8080", "http://c:8080/", "http://c:8080/v1/events", "https://c/custody/"} {
		want := strings.TrimSuffix(strings.TrimSuffix(u, "/"), "/v1/events") + "/v1/events"
		if got := (&HTTPTransport{URL: u}).endpoint(); got != want {
			t.Errorf("endpoint(%q) = %q, want %q", u, got, want)
		}
	}
}
