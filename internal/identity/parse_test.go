package identity

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Identifier
		wantErr string
	}{
		{in: "email:Jane@Example.com", want: Identifier{Kind: Email, Value: "jane@example.com"}},
		{in: "external:crm:C-1009", want: Identifier{Kind: External, Namespace: "crm", Value: "C-1009"}},
		{in: "user_id:u:1", want: Identifier{Kind: UserID, Value: "u:1"}},
		{in: "jane@example.com", wantErr: "want kind:value"},
		{in: "mail:jane@example.com", wantErr: `unknown identifier kind "mail"`},
		{in: "external:C-1009", wantErr: "external:namespace:value"},
		{in: "email:", wantErr: "value"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}
