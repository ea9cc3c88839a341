package requests

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	for _, id := range []string{"r", "dsar-2026-001", "req-0b8e6c1e-1f0e-4f0e-9b0e-2b1f3c4d5e6f", "A.b_c:d-e", strings.Repeat("x", MaxIDLen)} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", id, err)
		}
	}
	for _, tc := range []struct{ id, reason string }{
		{"", "it is empty"},
		{"a\r\nb", "it contains a control character"},
		{"a\x00b", "it contains a control character"},
		{"a\u0085b", "it contains a control character"},
		{strings.Repeat("x", 10_000), "it is 10000 bytes long"},
		{"a\xffb", "it is not valid UTF-8"},
		{"-a", "it does not start with a letter or digit"},
		{"a b", "it contains a character outside those"},
		{"é", "it does not start with a letter or digit"},
	} {
		err := ValidateID(tc.id)
		var ie *InputError
		if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidInput) || ie.Field != "request id" {
			t.Fatalf("ValidateID(%.20q) = %#v, want an *InputError for the request id", tc.id, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "request id: must be 1–64 letters") || !strings.HasSuffix(msg, "; "+tc.reason) {
			t.Errorf("ValidateID(%.20q) = %q, want the rule and %q", tc.id, msg, tc.reason)
		}
		if len(tc.id) > 2 && strings.Contains(msg, tc.id) {
			t.Errorf("ValidateID(%.20q) echoes the id: %q", tc.id, msg)
		}
	}
}
