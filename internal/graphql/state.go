package graphql

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// requestState is what one HTTP request's handling shares between the
// HTTP layer and gqlgen's extensions, which see only the context: the
// status to answer with when an extension refuses the operation, whether
// the operation ran, the code of its first error (for metrics), and when
// to retry reads that were refused as overloaded.
type requestState struct {
	mu        sync.Mutex
	status    int // 0: leave it to the transport
	executed  bool
	firstCode Code
	retryIn   time.Duration // 0: no Retry-After
	loaders   *loaders
}

type stateKey struct{}

func withState(ctx context.Context, st *requestState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// refuse sets the HTTP status of a refused operation.
func (s *requestState) refuse(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

func (s *requestState) markExecuted() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.executed = true
}

func (s *requestState) noteCode(c Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstCode == "" {
		s.firstCode = c
	}
}

// retryAfter asks the client to retry after d (the longest asked, when
// several reads of the operation were refused).
func (s *requestState) retryAfter(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryIn = max(s.retryIn, d)
}

// retryDelay is what retryAfter asked for; 0: no read was refused.
func (s *requestState) retryDelay() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retryIn
}

func (s *requestState) snapshot() (status int, executed bool, code Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.executed, s.firstCode
}

// statusWriter answers with the status an extension chose when it refused
// the operation (403 for a mutation without admin): gqlgen's transports
// would answer 200 or 422 for any refusal. A response with reads refused
// as overloaded keeps its status (200: the other fields may have data) and
// gets a Retry-After header.
type statusWriter struct {
	http.ResponseWriter
	st          *requestState
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if status, _, _ := w.st.snapshot(); status != 0 {
		code = status
	}
	if d := w.st.retryDelay(); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
