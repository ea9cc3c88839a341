package config

import (
	"strings"
	"testing"
)

// rejected: caps the rejected-event store; zero values take its defaults,
// and each bad value is reported by its YAML path.
func TestValidate_RejectedCaps(t *testing.T) {
	tests := []struct {
		name string
		cfg  RejectedConfig
		want string // the YAML path reported; "" means valid
	}{
		{"defaults", RejectedConfig{}, ""},
		{"all set", RejectedConfig{MaxPayloadBytes: 4096, MaxStoredBytes: 4096, MaxStored: 1}, ""},
		{"payload at the ceiling", RejectedConfig{MaxPayloadBytes: 1 << 20}, ""},
		{"payload too small", RejectedConfig{MaxPayloadBytes: 100}, "rejected.max_payload_bytes"},
		{"payload over the largest event", RejectedConfig{MaxPayloadBytes: 1<<20 + 1}, "rejected.max_payload_bytes"},
		{"total below one payload", RejectedConfig{MaxPayloadBytes: 8192, MaxStoredBytes: 8191}, "rejected.max_stored_bytes"},
		{"total below the default payload", RejectedConfig{MaxStoredBytes: 1000}, "rejected.max_stored_bytes"},
		{"negative total", RejectedConfig{MaxStoredBytes: -1}, "rejected.max_stored_bytes"},
		{"negative count", RejectedConfig{MaxStored: -1}, "rejected.max_stored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Rejected = tt.cfg
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("valid caps refused: %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), "config "+tt.want+": ")):
				t.Fatalf("err = %v, want a problem at %s", err, tt.want)
			}
		})
	}
}

func TestLoad_ReadsRejectedCaps(t *testing.T) {
	c, err := Load(writeFile(t, "rejected: {max_payload_bytes: 8192, max_stored_bytes: 1048576, max_stored: 500}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (RejectedConfig{MaxPayloadBytes: 8192, MaxStoredBytes: 1 << 20, MaxStored: 500}); c.Rejected != want {
		t.Errorf("rejected = %+v, want %+v", c.Rejected, want)
	}
}
