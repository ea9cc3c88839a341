package reportapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/admission"
	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/projectionstore/readtest"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/reportapi"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/rights"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

func TestDownloadServesTheDeliveredReportAndRecordsTheRead(t *testing.T) {
	ctx := context.Background()
	e := readtest.Open(t)
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	svc, err := rights.New(e.Log, e.Inventory, rights.Config{Taxonomy: tax, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	trail := audit.New(e.Log, e.Log, e.Inventory, e.Hasher, func() time.Time { return now })
	jane := identity.Identifier{Kind: identity.Email, Value: "jane@example.com"}
	if _, err := e.Log.Append(ctx, []*event.Event{{ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeCollected,
		Source: "t", Time: now.AddDate(0, -2, 0), Tenant: "default", Subject: event.Subject{Identifiers: []identity.Identifier{jane}},
		Data: &event.Collected{Elements: []event.Element{{Name: "email", Category: "contact.email", Value: json.RawMessage(`"jane@example.com"`)}},
			Origin: event.Origin{Kind: "consumer"}, Purposes: []string{"account_management"}, System: "crm"}}}); err != nil {
		t.Fatal(err)
	}
	r, err := svc.Open(ctx, requests.OpenInput{Subject: event.Subject{Identifiers: []identity.Identifier{jane}}, Type: requests.TypeAccess,
		Jurisdiction: requests.CCPA, Channel: requests.ChannelEmail})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Verify(ctx, "", r.ID, requests.VerifyInput{Method: requests.MethodAccountLogin, Level: requests.LevelSpecificPieces}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Complete(ctx, "", r.ID, requests.CompleteInput{Outcome: requests.OutcomeComplied}); err != nil {
		t.Fatal(err)
	}

	secret, err := auth.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New([]auth.Token{{Name: "dpo", Role: auth.Admin, SHA256: auth.Hash(secret)}}, false)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(reportapi.Pattern, authn.Require(reportapi.New(svc, trail, slog.New(slog.DiscardHandler)), auth.Admin))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string, token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, tc := range []struct {
		path, token string
		status      int
		want        string
	}{
		{"/v1/requests/" + r.ID + "/report?purpose=resend", "", http.StatusUnauthorized, "Bearer"},
		{"/v1/requests/" + r.ID + "/report", secret, http.StatusBadRequest, "purpose"},
		{"/v1/requests/" + r.ID + "/report?purpose=x&format=docx", secret, http.StatusBadRequest, "format"},
		{"/v1/requests/nope/report?purpose=x", secret, http.StatusNotFound, "no such request"},
		// Ids no request can have are the caller's mistake (they were
		// 500s: the log refused them as identifiers).
		{"/v1/requests/a%0D%0Ab/report?purpose=x", secret, http.StatusBadRequest, "request id: "},
		{"/v1/requests/a%00b/report?purpose=x", secret, http.StatusBadRequest, "control character"},
		{"/v1/requests/" + strings.Repeat("r", 10_000) + "/report?purpose=x", secret, http.StatusBadRequest, "10000 bytes long"},
		{"/v1/requests/" + r.ID + "/report?purpose=resend&format=json", secret, http.StatusOK, `"jane@example.com"`},
		{"/v1/requests/" + r.ID + "/report?purpose=resend", secret, http.StatusOK, "%PDF"},
	} {
		resp := get(tc.path, tc.token)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Fatalf("GET %s: %d %.200s; want %d containing %q", tc.path, resp.StatusCode, b, tc.status, tc.want)
		}
		if resp.StatusCode == http.StatusOK && resp.Header.Get("X-Custody-Report-Matches") != "true" {
			t.Fatalf("GET %s: the report built again does not match the one delivered", tc.path)
		}
	}
	// Both downloads are in Jane's access log.
	log, err := trail.For(ctx, "", jane)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Operation != "http.report_download" || log[0].Actor != "dpo" || log[0].RequestID != r.ID {
		t.Fatalf("access log = %+v", log)
	}

	// With every turn to read taken (one, no queue), a download is refused
	// with 503 and Retry-After, and nothing goes into the access log.
	lim, err := admission.New(admission.Config{MaxConcurrent: 1, MaxQueued: 0, MaxWait: 1500 * time.Millisecond}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("GET /admitted/v1/requests/{id}/report",
		authn.Require(reportapi.New(admitted{svc, lim}, trail, slog.New(slog.DiscardHandler)), auth.Admin))
	busy, err := lim.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp := get("/admitted/v1/requests/"+r.ID+"/report?purpose=resend", secret)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "2" || !strings.Contains(string(b), "too many reads at once") {
		t.Fatalf("download while overloaded: %d, Retry-After %q, %.200s; want 503, 2, the reason", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	busy()
	if resp := get("/admitted/v1/requests/"+r.ID+"/report?purpose=resend", secret); resp.StatusCode != http.StatusOK {
		t.Fatalf("download with a turn free: %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
	if log, err := trail.For(ctx, "", jane); err != nil || len(log) != 3 {
		t.Fatalf("access log after a refused and an admitted download: %d entries, %v; want 3", len(log), err)
	}
}

// admitted puts downloads behind a limiter, as internal/node does.
type admitted struct {
	rights *rights.Service
	lim    *admission.Limiter
}

func (a admitted) Download(ctx context.Context, tenant, id string) (report.Report, requests.Request, bool, error) {
	release, err := a.lim.Acquire(ctx)
	if err != nil {
		return report.Report{}, requests.Request{}, false, err
	}
	defer release()
	return a.rights.Download(ctx, tenant, id)
}

// A request id that cannot be one is answered 400 with the reason, before
// anything is read, whatever else the request says; the body never echoes
// the id.
func TestDownloadRefusesMalformedRequestIDs(t *testing.T) {
	var calls int
	h := reportapi.New(rightsFunc(func(context.Context, string, string) (report.Report, requests.Request, bool, error) {
		calls++
		return report.Report{}, requests.Request{}, false, rights.ErrNotFound
	}), nil, slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	mux.Handle(reportapi.Pattern, h)
	for _, tc := range []struct {
		name, id, reason string
	}{
		{"carriage return and line feed", "dsar%0D%0A1", "it contains a control character"},
		{"line feed", "dsar%0A1", "it contains a control character"},
		{"NUL", "dsar%001", "it contains a control character"},
		{"DEL", "dsar%7F1", "it contains a control character"},
		{"10,000 characters", strings.Repeat("a", 10_000), "it is 10000 bytes long"},
		{"65 characters", strings.Repeat("a", 65), "it is 65 bytes long"},
		{"space", "dsar%201", "it contains a character outside those"},
		{"leading dot", ".dsar", "it does not start with a letter or digit"},
		{"invalid UTF-8", "dsar%FF", "it is not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, query := range []string{"?purpose=x", "", "?format=docx"} {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/requests/"+tc.id+"/report"+query, nil))
				body := rec.Body.String()
				if rec.Code != http.StatusBadRequest || !strings.HasPrefix(body, "request id: must be 1–64 letters") || !strings.Contains(body, tc.reason) {
					t.Fatalf("GET %.80s%s: %d %q; want 400 naming the request id and %q", tc.id, query, rec.Code, body, tc.reason)
				}
				if len(body) > 300 || strings.ContainsAny(body[:len(body)-1], "\r\n\x00") {
					t.Fatalf("the answer echoes the id: %q", body)
				}
			}
		})
	}
	if calls != 0 {
		t.Fatalf("Download ran %d times for malformed ids", calls)
	}
	// A well-formed id goes on to be looked up.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/requests/dsar-2026:001.a_b/report?purpose=x", nil))
	if rec.Code != http.StatusNotFound || calls != 1 {
		t.Fatalf("well-formed id: %d after %d lookups; want 404 after 1", rec.Code, calls)
	}
}

type rightsFunc func(ctx context.Context, tenant, id string) (report.Report, requests.Request, bool, error)

func (f rightsFunc) Download(ctx context.Context, tenant, id string) (report.Report, requests.Request, bool, error) {
	return f(ctx, tenant, id)
}
