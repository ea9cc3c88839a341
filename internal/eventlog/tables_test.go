package eventlog

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/migrate"
)

func TestBatchToken_IsDeterministicOrderFreeAndDiffersWithContent(t *testing.T) {
	a, b, c := uuid.MustParse("00000000-0000-0000-0000-00000000000a"), uuid.MustParse("00000000-0000-0000-0000-00000000000b"),
		uuid.MustParse("00000000-0000-0000-0000-00000000000c")
	batch := []row{{Tenant: "acme", EventID: a, Data: []byte("x")}, {Tenant: "acme", EventID: b}}
	tok := batchToken(batch)
	if err := (clickhouse.Settings{"insert_deduplication_token": tok}).Validate(); err != nil {
		t.Fatalf("token %q is not a valid setting value: %v", tok, err)
	}
	// A retry re-encodes rows (new recorded_at, nonces) and may order them
	// differently: same token.
	retry := []row{{Tenant: "acme", EventID: b, Data: []byte("other bytes")}, {Tenant: "acme", EventID: a}}
	if got := batchToken(retry); got != tok {
		t.Errorf("retry token %s, want %s", got, tok)
	}
	for name, other := range map[string][]row{
		"another event":   {{Tenant: "acme", EventID: a}, {Tenant: "acme", EventID: c}},
		"one event fewer": {{Tenant: "acme", EventID: a}},
		"one event more":  {{Tenant: "acme", EventID: a}, {Tenant: "acme", EventID: b}, {Tenant: "acme", EventID: c}},
		"another tenant":  {{Tenant: "globex", EventID: a}, {Tenant: "acme", EventID: b}},
	} {
		if got := batchToken(other); got == tok {
			t.Errorf("%s: same token %s", name, got)
		}
	}
}

// Every query renders in every mode, and in sharded mode reads and writes
// name only Distributed tables, except the co-located IN subqueries over
// event_identifiers, and the mutation runs ON CLUSTER.
func TestQueries_RenderForEveryMode(t *testing.T) {
	sharded := migrate.Config{Cluster: "custody", Replicated: true, Sharded: true}.Tables()
	for _, q := range queries() {
		single := migrate.Tables{}.MustSQL(q)
		if strings.Contains(single, "{{") || strings.Contains(single, "_all") {
			t.Errorf("single-node rendering: %s", single)
		}
		s := sharded.MustSQL(q)
		for _, name := range []string{"events", "event_ids_v2", "subject_keys"} {
			if strings.Contains(s, "FROM "+name+" ") || strings.Contains(s, "FROM "+name+"\n") || strings.HasSuffix(s, "FROM "+name) {
				t.Errorf("sharded rendering reads local %s:\n%s", name, s)
			}
		}
		if strings.HasPrefix(s, "ALTER") && !strings.Contains(s, "subject_keys ON CLUSTER custody DELETE") {
			t.Errorf("sharded mutation not ON CLUSTER on the local table:\n%s", s)
		}
	}
}
