package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name      string
		kind      Kind
		namespace string
		value     string
		want      string
		wantField string // non-empty: an *Error on this field is expected
	}{
		{"email is trimmed and lower-cased", Email, "", "  Jane.Doe@Example.COM ", "jane.doe@example.com", ""},
		{"email keeps plus addressing", Email, "", "jane+shop@example.com", "jane+shop@example.com", ""},
		{"email without @ is rejected", Email, "", "jane.example.com", "", "value"},
		{"email with two @ is rejected", Email, "", "jane@doe@example.com", "", "value"},
		{"email with empty local part is rejected", Email, "", "@example.com", "", "value"},
		{"email with empty domain is rejected", Email, "", "jane@", "", "value"},
		{"email with inner space is rejected", Email, "", "jane doe@example.com", "", "value"},
		{"email with dotted-end domain is rejected", Email, "", "jane@example.", "", "value"},
		{"email that is too long is rejected", Email, "", strings.Repeat("a", 250) + "@x.io", "", "value"},
		{"phone already in E.164", Phone, "", "+14155550100", "+14155550100", ""},
		{"phone with spaces dashes dots and parentheses", Phone, "", "+1 (415) 555-01.00", "+14155550100", ""},
		{"phone with leading 00 becomes +", Phone, "", "0046 70 123 45 67", "+46701234567", ""},
		{"phone in national format is rejected", Phone, "", "(415) 555-0100", "", "value"},
		{"phone with national trunk zero is rejected", Phone, "", "070-123 45 67", "", "value"},
		{"phone with letters is rejected", Phone, "", "+1 415 CALL NOW", "", "value"},
		{"phone with too few digits is rejected", Phone, "", "+4912345", "", "value"},
		{"phone with too many digits is rejected", Phone, "", "+1234567890123456", "", "value"},
		{"phone with country code 0 is rejected", Phone, "", "+0123456789", "", "value"},
		{"advertising id is lower-cased", AdvertisingID, "", "6D92078A-8246-4BA4-AE5B-76104861E7DC", "6d92078a-8246-4ba4-ae5b-76104861e7dc", ""},
		{"advertising id without hyphens gets canonical form", AdvertisingID, "", "6d92078a82464ba4ae5b76104861e7dc", "6d92078a-8246-4ba4-ae5b-76104861e7dc", ""},
		{"advertising id of zeros is rejected", AdvertisingID, "", "00000000-0000-0000-0000-000000000000", "", "value"},
		{"advertising id that is not a UUID is rejected", AdvertisingID, "", "not-an-idfa", "", "value"},
		{"customer id is trimmed and keeps case", CustomerID, "", "  C-1009 ", "C-1009", ""},
		{"user id of 512 bytes is accepted", UserID, "", strings.Repeat("u", 512), strings.Repeat("u", 512), ""},
		{"user id over 512 bytes is rejected", UserID, "", strings.Repeat("u", 513), "", "value"},
		{"device id with a control character is rejected", DeviceID, "", "dev\x00ice", "", "value"},
		{"blank value is rejected", CookieID, "", "   ", "", "value"},
		{"invalid UTF-8 is rejected", AccountID, "", "acc\xff", "", "value"},
		{"external id with namespace", External, " Salesforce ", "003XYZ", "003XYZ", ""},
		{"external id without namespace is rejected", External, "", "003XYZ", "", "namespace"},
		{"namespace on a non-external kind is rejected", Email, "crm", "jane@example.com", "", "namespace"},
		{"unknown kind is rejected", Kind("passport"), "", "X1", "", "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.kind, tt.namespace, tt.value)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Normalize: unexpected error %v", err)
				}
				if got != tt.want {
					t.Fatalf("Normalize = %q, want %q", got, tt.want)
				}
				again, err := Normalize(tt.kind, tt.namespace, got)
				if err != nil || again != got {
					t.Fatalf("Normalize is not idempotent: %q, %v", again, err)
				}
				return
			}
			var ierr *Error
			if !errors.As(err, &ierr) {
				t.Fatalf("Normalize error = %v, want *Error", err)
			}
			if ierr.Field != tt.wantField {
				t.Fatalf("error field = %q, want %q (%v)", ierr.Field, tt.wantField, err)
			}
			if v := strings.TrimSpace(tt.value); len(v) > 3 && strings.Contains(err.Error(), v) {
				t.Fatalf("error %q echoes the raw value", err)
			}
		})
	}
}

func TestNormalize_NationalPhoneErrorSaysUseInternationalFormat(t *testing.T) {
	_, err := Normalize(Phone, "", "030 901820")
	if err == nil || !strings.Contains(err.Error(), "E.164 international format") {
		t.Fatalf("error = %v, want it to ask for E.164 international format", err)
	}
	if strings.Contains(err.Error(), "901820") {
		t.Fatalf("error %q echoes the number", err)
	}
}

func TestKinds_OnlyExternalNeedsNamespace(t *testing.T) {
	for _, k := range Kinds() {
		if !k.Valid() {
			t.Errorf("%s: not Valid", k)
		}
		if got := k.NeedsNamespace(); got != (k == External) {
			t.Errorf("%s: NeedsNamespace = %v", k, got)
		}
	}
	if Kind("Email").Valid() {
		t.Error("kinds are case-sensitive")
	}
}
