package graphql

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/custodyhq/custody/internal/admission"
	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/graphql/model"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/lineage"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/rights"
)

// Code is the stable extensions.code of an error. Clients branch on it;
// messages are for people and may change.
type Code string

// Codes.
const (
	// CodeUnauthenticated: no principal (the HTTP layer answers 401 first).
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	// CodeForbidden: the token's role may not do this (mutations need
	// admin; introspection is off outside dev mode).
	CodeForbidden Code = "FORBIDDEN"
	// CodeBadUserInput: an argument, a variable or the query itself is
	// wrong; the message says which and why.
	CodeBadUserInput Code = "BAD_USER_INPUT"
	// CodeNotFound: what was named does not exist.
	CodeNotFound Code = "NOT_FOUND"
	// CodeTooLarge: the operation is too complex or too deep, the body too
	// big, or the person too large to read (a shared identifier joining
	// many people).
	CodeTooLarge Code = "TOO_LARGE"
	// CodeConflict: the step is not allowed in the request's current state.
	CodeConflict Code = "CONFLICT"
	// CodeOverloaded: too many reads of personal data were running or
	// waiting; this one was not run (nor recorded in the access log). The
	// response carries a Retry-After header (seconds); retry then.
	CodeOverloaded Code = "OVERLOADED"
	// CodeInternal: anything else. The message is generic with a reference
	// to the log line that has the details.
	CodeInternal Code = "INTERNAL"
)

// gqlgen's own codes, mapped onto ours.
const (
	codeComplexity = "COMPLEXITY_LIMIT_EXCEEDED"
)

// Error is an error whose message is safe to show the client as it is.
type Error struct {
	Code    Code
	Message string
	err     error // the cause, for errors.Is and logs; never shown
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.err }

func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// badInput names the argument that is wrong and why.
func badInput(arg, format string, args ...any) *Error {
	return &Error{Code: CodeBadUserInput, Message: arg + ": " + fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error { return newError(CodeNotFound, format, args...) }

// classify decides the code of err and whether its message may be shown.
// Errors of the domain that name a field and a reason are shown; anything
// unknown is internal.
func classify(err error) (code Code, msg string, safe bool) {
	var e *Error
	var scalar *model.InputError
	var idErr *identity.Error
	var refused *admission.RefusedError
	switch {
	case errors.As(err, &e):
		return e.Code, e.Message, true
	case errors.As(err, &scalar):
		return CodeBadUserInput, scalar.Error(), true
	case errors.As(err, &idErr):
		return CodeBadUserInput, strings.TrimPrefix(idErr.Error(), "identity: "), true
	case errors.Is(err, requests.ErrInvalidTransition):
		return CodeConflict, err.Error(), true
	case errors.Is(err, requests.ErrInvalidInput), errors.Is(err, report.ErrInvalidInput):
		return CodeBadUserInput, err.Error(), true
	case errors.Is(err, audit.ErrPurposeRequired):
		return CodeBadUserInput, err.Error(), true
	case errors.As(err, &refused):
		return CodeOverloaded, refused.Error(), true
	case errors.Is(err, inventory.ErrTooLarge):
		return CodeTooLarge, err.Error(), true
	case errors.Is(err, rights.ErrNotFound), errors.Is(err, rights.ErrNoReport):
		return CodeNotFound, err.Error(), true
	case errors.Is(err, inventory.ErrNotFound), errors.Is(err, lineage.ErrNotFound), errors.Is(err, rejected.ErrNotFound):
		// Their messages carry internal ids; resolvers that expect them
		// say what was not found themselves.
		return CodeNotFound, "not found", true
	case errors.Is(err, context.DeadlineExceeded):
		return CodeInternal, "the request timed out", true
	case errors.Is(err, context.Canceled):
		return CodeInternal, "the request was canceled", true
	}
	return CodeInternal, "", false
}

// presenter turns every error of a response into one with a stable code.
// It never shows the message of an unknown error (which may carry SQL,
// file paths or data): it logs it with a reference and shows the
// reference.
type presenter struct {
	log *slog.Logger
}

func (p presenter) present(ctx context.Context, err error) *gqlerror.Error {
	var gerr *gqlerror.Error
	if !errors.As(err, &gerr) {
		gerr = graphql.DefaultErrorPresenter(ctx, err)
	}
	out := &gqlerror.Error{Message: gerr.Message, Path: gerr.Path, Locations: gerr.Locations, Rule: gerr.Rule}
	code, msg := p.codeOf(ctx, gerr)
	out.Message = msg
	out.Extensions = map[string]any{"code": string(code)}
	if st := stateFrom(ctx); st != nil {
		st.noteCode(code)
		var refused *admission.RefusedError
		if errors.As(gerr.Err, &refused) {
			st.retryAfter(refused.RetryAfter)
		}
		if msg == msgBodyUnreadable {
			// gqlgen answers 200 for a body it could not read; the
			// response is not written yet.
			st.refuse(http.StatusRequestEntityTooLarge)
		}
	}
	return out
}

const msgBodyUnreadable = "the request body could not be read: it is too large or was cut off"

func (p presenter) codeOf(ctx context.Context, gerr *gqlerror.Error) (Code, string) {
	if gerr.Err != nil {
		code, msg, safe := classify(gerr.Err)
		if safe {
			return code, msg
		}
		return CodeInternal, p.internal(ctx, gerr.Err, gerr.Path.String())
	}
	// Errors gqlgen made itself, about the request.
	switch c, _ := gerr.Extensions["code"].(string); c {
	case string(CodeUnauthenticated), string(CodeForbidden), string(CodeBadUserInput), string(CodeNotFound),
		string(CodeTooLarge), string(CodeConflict), string(CodeOverloaded), string(CodeInternal):
		return Code(c), gerr.Message
	case errcode.ParseFailed, errcode.ValidationFailed:
		return CodeBadUserInput, gerr.Message
	case codeComplexity:
		return CodeTooLarge, gerr.Message
	}
	switch msg := gerr.Message; {
	case msg == "introspection disabled":
		return CodeForbidden, "introspection is disabled outside dev mode"
	case strings.HasPrefix(msg, "json request body could not be decoded"):
		// gqlgen's message echoes the whole body back; say what is wrong.
		return CodeBadUserInput, "the request body is not a JSON object with a query (and optional operationName and variables)"
	case strings.HasPrefix(msg, "could not read request body"):
		return CodeTooLarge, msgBodyUnreadable
	}
	return CodeInternal, p.internal(ctx, errors.New(gerr.Message), gerr.Path.String())
}

// internal logs err under a fresh reference and returns the message the
// client sees instead.
func (p presenter) internal(ctx context.Context, err error, path string) string {
	ref := newRef()
	p.log.ErrorContext(ctx, "graphql: internal error", "ref", ref, "path", path, "err", err)
	return "internal error (ref " + ref + ")"
}

// recover turns a resolver's panic into an internal error, logging the
// stack; the process keeps serving.
func (p presenter) recover(ctx context.Context, v any) error {
	ref := newRef()
	path := ""
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		path = fc.Path().String()
	}
	p.log.ErrorContext(ctx, "graphql: panic", "ref", ref, "path", path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	return &Error{Code: CodeInternal, Message: "internal error (ref " + ref + ")"}
}

func newRef() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}

// protect puts next behind authn for analysts and admins. Its refusals are
// GraphQL responses like any other error of /graphql, keeping their HTTP
// status: 401 (with WWW-Authenticate) is UNAUTHENTICATED, 403 FORBIDDEN.
func protect(authn *auth.Authenticator, next http.Handler) http.Handler {
	return authn.RequireWith(next, writeRefusal, auth.Analyst)
}

// writeRefusal answers a request the HTTP layer refused before GraphQL ran:
// {"errors":[{"message":…,"extensions":{"code":…}}]} and no data.
func writeRefusal(w http.ResponseWriter, _ *http.Request, ref auth.Refusal) {
	code := CodeForbidden
	if ref.Status == http.StatusUnauthorized {
		code = CodeUnauthenticated
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // "Bearer <token>", as written
	_ = enc.Encode(map[string]any{"errors": []*gqlerror.Error{{
		Message: ref.Message, Extensions: map[string]any{"code": string(code)},
	}}})
	w.Header().Set("Content-Type", "application/json") // as gqlgen answers
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(ref.Status)
	_, _ = w.Write(body.Bytes())
}
