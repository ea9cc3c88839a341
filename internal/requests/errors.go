package requests

import (
	"errors"
	"fmt"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrInvalidTransition: the request's state does not allow the step
	// (confirming a denied request, extending twice, …).
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrInvalidInput: a field of the step is missing or not acceptable.
	ErrInvalidInput = errors.New("invalid input")
)

// TransitionError is a step the request's state does not allow. Its message
// names the step, the request and why, e.g.
// "extend: request r-1 was already extended on 2026-03-02".
type TransitionError struct {
	Op        string // open, confirm, verify, extend, complete, deny, appeal
	RequestID string
	Reason    string // completes "request <id> …"
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s: request %s %s", e.Op, e.RequestID, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidTransition) true.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

// InputError is a field of a step that is missing or not acceptable.
type InputError struct {
	Op        string // "" when the field is checked on its own (ValidateID)
	RequestID string // "" when not known yet
	Field     string // e.g. "level", "reason"
	Reason    string
}

func (e *InputError) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	if e.RequestID == "" {
		return fmt.Sprintf("%s: %s: %s", e.Op, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: request %s: %s: %s", e.Op, e.RequestID, e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Unwrap() error { return ErrInvalidInput }
