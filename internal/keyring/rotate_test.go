package keyring

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// The Rotator against real storage (ClickHouse) is tested in package
// eventlog, beside the RotationStore adapter; these are its pure parts.

func TestRewrapOptions_Validate(t *testing.T) {
	tests := []struct {
		name    string
		opts    RewrapOptions
		wantErr string
		batch   int // after WithDefaults
	}{
		{"zero value means defaults", RewrapOptions{}, "", DefaultRewrapBatch},
		{"smallest batch", RewrapOptions{Batch: 1}, "", 1},
		{"largest batch", RewrapOptions{Batch: MaxRewrapBatch}, "", MaxRewrapBatch},
		{"negative batch", RewrapOptions{Batch: -1}, "rewrap batch must be between 1 and 100000, got -1", 0},
		{"batch too large", RewrapOptions{Batch: MaxRewrapBatch + 1}, "got 100001", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if got := tt.opts.WithDefaults().Batch; got != tt.batch {
				t.Fatalf("batch %d, want %d", got, tt.batch)
			}
		})
	}
}

func TestStatusOf_RolesAndRetirement(t *testing.T) {
	tests := []struct {
		name       string
		configured []string
		usage      []MasterKeyUsage
		want       []MasterKeyStatus
		pending    uint64
		retirable  []string
	}{
		{
			name:       "rotation started: previous key still wraps keys",
			configured: []string{"mk-a", "mk-b"},
			usage:      []MasterKeyUsage{{MasterKeyID: "mk-a", LiveKeys: 5, Subjects: 4, DestroyedKeys: 1}, {MasterKeyID: "mk-b", LiveKeys: 2, Subjects: 2}},
			want: []MasterKeyStatus{
				{ID: "mk-b", Role: RoleActive, LiveKeys: 2, Subjects: 2},
				{ID: "mk-a", Role: RolePrevious, LiveKeys: 5, Subjects: 4, DestroyedKeys: 1},
			},
			pending: 5,
		},
		{
			name:       "rotation complete: only destroyed markers left under the previous key",
			configured: []string{"mk-a", "mk-b"},
			usage:      []MasterKeyUsage{{MasterKeyID: "mk-a", DestroyedKeys: 3}, {MasterKeyID: "mk-b", LiveKeys: 7, Subjects: 6}},
			want: []MasterKeyStatus{
				{ID: "mk-b", Role: RoleActive, LiveKeys: 7, Subjects: 6},
				{ID: "mk-a", Role: RolePrevious, DestroyedKeys: 3, Retirable: true},
			},
			retirable: []string{"mk-a"},
		},
		{
			name:       "a previous key wrapping nothing at all is retirable",
			configured: []string{"mk-b", "mk-c"},
			want: []MasterKeyStatus{
				{ID: "mk-b", Role: RoleActive},
				{ID: "mk-c", Role: RolePrevious, Retirable: true},
			},
			retirable: []string{"mk-c"},
		},
		{
			name:       "keys under a master key nobody configured",
			configured: []string{"mk-b"},
			usage:      []MasterKeyUsage{{MasterKeyID: "mk-0", LiveKeys: 1, Subjects: 1}},
			want: []MasterKeyStatus{
				{ID: "mk-b", Role: RoleActive},
				{ID: "mk-0", Role: RoleUnconfigured, LiveKeys: 1, Subjects: 1},
			},
			pending: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := statusOf("mk-b", tt.configured, tt.usage)
			if s.Active != "mk-b" || !slices.Equal(s.MasterKeys, tt.want) {
				t.Fatalf("status %+v\nwant %+v", s.MasterKeys, tt.want)
			}
			if s.PendingKeys != tt.pending || s.Complete != (tt.pending == 0) || !slices.Equal(s.Retirable(), tt.retirable) {
				t.Fatalf("pending %d complete %t retirable %v; want %d, %v", s.PendingKeys, s.Complete, s.Retirable(), tt.pending, tt.retirable)
			}
		})
	}
}

func TestNewRotator_Validation(t *testing.T) {
	kr := mustKeyring(t, newMemStore(false), Options{}, mustMaster(t))
	if _, err := NewRotator(nil, nil); err == nil {
		t.Fatal("nil Keyring accepted")
	}
	if _, err := NewRotator(kr, nil); err == nil {
		t.Fatal("nil store accepted")
	}
	// Options are validated before the store is touched.
	var rs RotationStore = nilStore{}
	rot, err := NewRotator(kr, rs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rot.Rewrap(context.Background(), RewrapOptions{Batch: -5}); err == nil || !strings.Contains(err.Error(), "got -5") {
		t.Fatalf("Rewrap with a bad batch: %v", err)
	}
}

// nilStore is a RotationStore that must not be called.
type nilStore struct{ RotationStore }
