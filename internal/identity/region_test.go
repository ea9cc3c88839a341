package identity

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeIn_DefaultPhoneRegion(t *testing.T) {
	tests := []struct {
		name, region, value string
		want                string // "" : an *Error on want field
		field               string
	}{
		{"US national", "US", "(415) 555-0100", "+14155550100", ""},
		{"US with trunk 1", "US", "1 415 555 0100", "+14155550100", ""},
		{"US region in lower case", "us", "415.555.0100", "+14155550100", ""},
		{"US international prefix 011", "US", "011 44 20 7946 0958", "+442079460958", ""},
		{"CA national", "CA", "604-555-0199", "+16045550199", ""},
		{"GB landline with trunk 0", "GB", "020 7946 0958", "+442079460958", ""},
		{"GB mobile with trunk 0", "GB", "07700 900123", "+447700900123", ""},
		{"GB 9-digit number", "GB", "016977 1234", "+44169771234", ""},
		{"E.164 wins over the region", "GB", "+1 415 555 0100", "+14155550100", ""},
		{"00 wins over the region", "US", "0044 20 7946 0958", "+442079460958", ""},
		{"US seven digits", "US", "555-0100", "", "value"},
		{"US area code starting 1", "US", "(115) 555-0100", "", "value"},
		{"US exchange starting 0", "US", "(415) 055-0100", "", "value"},
		{"US twelve digits", "US", "41555501001", "", "value"},
		{"GB without trunk 0", "GB", "20 7946 0958", "", "value"},
		{"GB too short", "GB", "020 7946", "", "value"},
		{"GB too long", "GB", "020 7946 0958 12", "", "value"},
		{"letters", "US", "415 CALL NOW", "", "value"},
		{"unknown region", "XX", "(415) 555-0100", "", "region"},
		{"empty value", "US", "  ", "", "value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeIn(Phone, "", tt.value, tt.region)
			if tt.field == "" {
				if err != nil || got != tt.want {
					t.Fatalf("NormalizeIn(%q, %s) = %q, %v; want %q", tt.value, tt.region, got, err, tt.want)
				}
				// Idempotent, with the region and without it.
				for _, r := range []string{tt.region, ""} {
					if again, err := NormalizeIn(Phone, "", got, r); err != nil || again != got {
						t.Fatalf("NormalizeIn(%q, %q) = %q, %v; not idempotent", got, r, again, err)
					}
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Field != tt.field {
				t.Fatalf("NormalizeIn(%q, %s) = %q, %v; want an error on %s", tt.value, tt.region, got, err, tt.field)
			}
			if strings.Contains(e.Error(), strings.TrimSpace(tt.value)) && strings.TrimSpace(tt.value) != "" {
				t.Fatalf("error echoes the value: %v", e)
			}
		})
	}
}

func TestNormalizeIn_OtherKindsAndNoRegion(t *testing.T) {
	if got, err := NormalizeIn(Email, "", " Jane@Example.com", "GB"); err != nil || got != "jane@example.com" {
		t.Fatalf("email with a region: %q, %v", got, err)
	}
	// Without a region a national number is refused, and the error says
	// how to set one.
	_, err := NormalizeIn(Phone, "", "(415) 555-0100", "")
	if err == nil || !strings.Contains(err.Error(), "tenants.<tenant>.default_phone_region") || !strings.Contains(err.Error(), "CA, GB, US") {
		t.Fatalf("national number without a region: %v; want the way to set a default region", err)
	}
	id, err := Identifier{Kind: Phone, Value: "020 7946 0958"}.NormalizedIn("GB")
	if err != nil || id != (Identifier{Kind: Phone, Value: "+442079460958"}) {
		t.Fatalf("NormalizedIn = %v %q, %v", id, id.Value, err)
	}
}

func TestPhoneRegions(t *testing.T) {
	if got := PhoneRegions(); !slices.Equal(got, []string{"CA", "GB", "US"}) {
		t.Fatalf("PhoneRegions() = %v", got)
	}
	for _, r := range []string{"US", "us", "Ca", "GB"} {
		if !KnownPhoneRegion(r) {
			t.Errorf("KnownPhoneRegion(%q) = false", r)
		}
	}
	for _, r := range []string{"", "UK", "DE", "USA", "+1"} {
		if KnownPhoneRegion(r) {
			t.Errorf("KnownPhoneRegion(%q) = true", r)
		}
	}
}
