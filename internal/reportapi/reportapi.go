// Package reportapi serves the report a completed rights request delivered:
//
//	GET /v1/requests/{id}/report?format=pdf|html|json&tenant=T&purpose=WHY
//
// to an authorised caller (the mux mounts it behind auth: admin). The
// report is built again as of the request's completion (package rights);
// the X-Custody-Report-Matches header says whether it is byte for byte the
// one delivered (false once data in it was erased or shredded since). Every
// download is recorded in the person's access log, with the purpose given.
// A download the read side's admission refused (too many reads at once) is
// answered 503 with Retry-After, and is not recorded: nothing was read.
// An id no request can have (requests.ValidateID: control characters, more
// than 64 bytes, …) is answered 400 with the reason before anything else.
package reportapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/custodyhq/custody/internal/admission"
	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/rights"
)

// Rights is the request queue (rights.Service). Download may refuse to
// run with an error wrapping admission.ErrOverloaded (a
// *admission.RefusedError).
type Rights interface {
	Download(ctx context.Context, tenant, id string) (report.Report, requests.Request, bool, error)
}

// Auditor records reads of personal data (audit.Trail).
type Auditor interface {
	Record(ctx context.Context, a audit.Access) error
}

// Handler serves reports.
type Handler struct {
	rights Rights
	audit  Auditor
	log    *slog.Logger
}

// New returns the handler.
func New(r Rights, a Auditor, log *slog.Logger) *Handler {
	return &Handler{rights: r, audit: a, log: log}
}

// Pattern is the route to mount the handler on.
const Pattern = "GET /v1/requests/{id}/report"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, q := r.PathValue("id"), r.URL.Query()
	// Before anything else: the id is checked, logged and echoed in a
	// header only once it is known to be plain text of a sane length.
	if err := requests.ValidateID(id); err != nil {
		http.Error(w, err.Error()+" (the {id} of /v1/requests/{id}/report)", http.StatusBadRequest)
		return
	}
	tenant, purpose := q.Get("tenant"), q.Get("purpose")
	format := report.FormatPDF
	if f := q.Get("format"); f != "" {
		var err error
		if format, err = report.ParseFormat(f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	if purpose == "" {
		http.Error(w, "purpose: say why you are downloading this person's report (?purpose=…); it goes into their access log", http.StatusBadRequest)
		return
	}
	rep, req, same, err := h.rights.Download(ctx, tenant, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, _ := auth.PrincipalFrom(ctx)
	// Recorded under the request's own identifier (the person's are kept
	// hashed only); the person's access log includes their requests'.
	a := audit.Access{Tenant: req.Tenant, Identifier: requests.RequestIdentifier(req.ID), Actor: p.Name, Role: string(p.Role),
		Operation: "http.report_download", Purpose: purpose, Found: true, RequestID: req.ID}
	if err := h.audit.Record(ctx, a); err != nil {
		h.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := report.Render(&b, rep, format); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s%s"`, req.ID, format.Extension()))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Custody-Report-Matches", strconv.FormatBool(same))
	_, _ = w.Write(b.Bytes())
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var refused *admission.RefusedError
	switch {
	case errors.As(err, &refused):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(refused.RetryAfter.Seconds()))))
		http.Error(w, refused.Error(), http.StatusServiceUnavailable)
	case errors.Is(err, requests.ErrInvalidInput):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, rights.ErrNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, rights.ErrNoReport):
		http.Error(w, err.Error(), http.StatusConflict)
	default:
		h.log.ErrorContext(r.Context(), "report download failed", "request", r.PathValue("id"), "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}
