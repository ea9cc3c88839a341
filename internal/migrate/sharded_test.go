package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/schema"
)

// Installations have applied 001–004 in the three existing modes; sharded
// mode must not change a byte of what those modes render or of the files
// their ledgers checksum. The hashes were taken from the code before
// sharded mode existed (sha256 of the statements joined by NUL).
func TestLoad_ExistingModesRenderExactlyAsBeforeShardedMode(t *testing.T) {
	files := map[string]string{ // ledger checksums, as applied
		"events":           "a6d58cdf2e5a5c525d14ce1fbb8c1a1b17e1f430502a8e386b20724a37a23d0d",
		"subject_keys":     "d0e2c5f3303e3a617059d8a08ab806818f2b7da35e9a9ddfa0c10b98b243dd14",
		"rejected_events":  "b70e3a345bf4ff6354d8cf11ea036fd4cf1707b1ad2bd6c16eed016a86e82dff",
		"projection_state": "e565833c768b3abb3111536a3fb04032182ae9bb7f5d1f4d891378177041dfdb",
	}
	modes := []struct {
		name     string
		cfg      Config
		rendered []string // 001..004, then the ledger
	}{
		{"single node", Config{}, []string{
			"36a7efcd3690ae246e2ec5e37f3bacc2d7682ab5a5353c8b47f127fc75e06960",
			"cb842035a43f3038f2d63d77aada7e63e9211f6cc36c5d7a0d3a9009625940cb",
			"768a74c27bdb7a7adca1d1cd08b91e91da75a4499ac5276cca65f85cb6935c52",
			"c9a51eb7e72d1e78920b3cfb1083853fdabbcf0ab95571048f0ceca029a9e71e",
			"810b9a48400f1bd963f87503b9f322dae02241a075bb7049ba86a99397e48b7a",
		}},
		{"cluster", Config{Cluster: "custody"}, []string{
			"41256af3cd3c752a20fd4ba5fe8c36b0d5ae7eb7b521826582ef5d42e343ad16",
			"2dc726a53c366fb2ded82894e62b52b385cb6211a7dd58fb0758d45081c402d3",
			"ef18eb57e8486e27ed18bcb12b2f40631cce26a68d8ffbd778692f3b689b7d46",
			"ad18344b93b5ec9356e1cd2bf6896fb85a435fc253f72b46fa60f889e0473b5e",
			"9d8e222bfc345bb1844e4c7591569d7bde90c1a8adcc1bc4ea3772ac37dd9dd1",
		}},
		{"replicated cluster", Config{Cluster: "custody", Replicated: true}, []string{
			"0e3d74c786193718483cbc5c129e3340c0fff10ae573ad9af7b3abbeb629c606",
			"fdc4c1e92da82cbfebb5a8843a3fb73c8f605a3e2eb3294253274669abff98d7",
			"058156a3a08573fe9c4e52e43c6e090ab0958affd3639774c4083042bd2865c7",
			"b9347edef6395f35fa733f44c292d2aefd75179e8cc92f1c3246e17944f2ce5e",
			"b3333fe017434361b1c5b039e6ad958827a3817b37dffe36aa10fedad1a68afb",
		}},
	}
	hash := func(stmts []string) string {
		sum := sha256.Sum256([]byte(strings.Join(stmts, "\x00")))
		return hex.EncodeToString(sum[:])
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			ms, err := Load(schema.ClickHouse(), mode.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				switch {
				case m.Version <= 4:
					got = append(got, hash(m.Statements))
					if m.Checksum != files[m.Name] {
						t.Errorf("%03d_%s.sql changed: checksum %s, applied installations recorded %s", m.Version, m.Name, m.Checksum, files[m.Name])
					}
				case m.Name == "distributed" && len(m.Statements) != 0:
					t.Errorf("005_distributed renders %d statements outside sharded mode: %q", len(m.Statements), m.Statements)
				}
			}
			cfg := mode.cfg
			cfg.setDefaults()
			ledger, err := cfg.ledgerDDL()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, hash(ledger))
			if !reflect.DeepEqual(got, mode.rendered) {
				t.Errorf("rendering changed:\n got %q\nwant %q", got, mode.rendered)
			}
			m, err := New(nil, schema.ClickHouse(), mode.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, mig := range m.Migrations() {
				if mig.Name == "distributed" {
					t.Error("005_distributed applies outside sharded mode")
				}
			}
		})
	}
}

func TestLoad_ShardedModeRendersDistributedTablesOverTheLocalOnes(t *testing.T) {
	ms, err := Load(schema.ClickHouse(), shardedConfig())
	if err != nil {
		t.Fatal(err)
	}
	var dist []string
	for _, m := range ms {
		if m.Name == "distributed" {
			dist = m.Statements
		}
	}
	want := "CREATE TABLE IF NOT EXISTS events_all ON CLUSTER custody AS events\nENGINE = Distributed(custody, currentDatabase(), events, cityHash64(subject_key))"
	if len(dist) != 6 || !strings.HasSuffix(dist[0], want) {
		t.Fatalf("005_distributed renders %d statements, first %q; want 6, the first ending %q", len(dist), dist, want)
	}
}

// A ledger written before 005 existed (001–004 applied) still verifies on a
// single node, and nothing is applied or recorded for 005 (the later
// migrations, which render in every mode, are).
func TestUp_LedgerFromBeforeShardedModeStillVerifiesOnASingleNode(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	before := fstest.MapFS{}
	for name, f := range embeddedCopy(t) {
		if name < "005" {
			before[name] = f
		}
	}
	if _, err := newMigrator(t, conn, before).Up(ctx); err != nil {
		t.Fatalf("up with 001–004: %v", err)
	}
	m := newMigrator(t, conn, schema.ClickHouse())
	ran, err := m.Up(ctx)
	if err != nil {
		t.Fatalf("up with 005: %v", err)
	}
	var later []int
	for _, mig := range m.Migrations() {
		if mig.Version > 5 {
			later = append(later, mig.Version)
		}
	}
	if got := versions(ran); !reflect.DeepEqual(got, later) {
		t.Errorf("applied %v on a single node, want only the migrations after 005, %v", got, later)
	}
	status, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(status) != 4+len(later) {
		t.Errorf("ledger has %d rows, want %d (005 is not recorded where it renders nothing): %+v", len(status), 4+len(later), status)
	}
	for _, a := range status {
		if a.Version == 5 {
			t.Errorf("005 recorded on a single node: %+v", a)
		}
	}
	for name := range tables(t, conn) {
		if strings.HasSuffix(name, DistributedSuffix) {
			t.Errorf("single node has Distributed-style table %s", name)
		}
	}
}

// A migration that renders nothing is not recorded, so it applies once a
// mode renders it; a migration that renders something is recorded as ever.
func TestUp_MigrationRenderingNothingWaitsForAModeThatRendersIt(t *testing.T) {
	conn := chtest.Embedded(t)
	ctx := context.Background()
	files := fstest.MapFS{
		"001_a.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS a (x String) ENGINE = Memory;\n")},
		"002_b.sql": {Data: []byte("-- only in sharded mode\n{{if .Sharded}}CREATE TABLE IF NOT EXISTS b (x String) ENGINE = Memory;{{end}}\n")},
	}
	m := newMigrator(t, conn, files)
	if got := versions(m.Migrations()); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("migrations %v, want [1]", got)
	}
	ran, err := m.Up(ctx)
	if err != nil || !reflect.DeepEqual(versions(ran), []int{1}) {
		t.Fatalf("up: %v %v, want [1]", versions(ran), err)
	}
	all, err := Load(files, shardedConfig())
	if err != nil || len(all[1].Statements) != 1 {
		t.Fatalf("sharded rendering of 002: %+v %v", all, err)
	}
}

func TestValidate_ShardedNeedsAReplicatedCluster(t *testing.T) {
	for _, cfg := range []Config{
		{Sharded: true},
		{Sharded: true, Replicated: true},
		{Sharded: true, Cluster: "custody"},
	} {
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "sharded") {
			t.Errorf("Validate(%+v) = %v, want an error naming sharded", cfg, err)
		}
	}
	if err := shardedConfig().Validate(); err != nil {
		t.Errorf("sharded replicated cluster rejected: %v", err)
	}
}

func TestTables_MapsLogicalNamesToDistributedOnlyWhenSharded(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		events string
		alter  string
	}{
		{"single node", Config{}, "events", "subject_keys"},
		{"zero Tables is single node", Config{}, "events", "subject_keys"},
		{"unsharded cluster", Config{Cluster: "custody", Replicated: true}, "events", "subject_keys"},
		{"sharded", shardedConfig(), "events_all", "subject_keys ON CLUSTER custody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := tt.cfg.Tables()
			if tt.name == "zero Tables is single node" {
				tb = Tables{}
			}
			if got := tb.Name("events"); got != tt.events {
				t.Errorf("Name(events) = %q, want %q", got, tt.events)
			}
			if tb.Sharded() != tt.cfg.Sharded {
				t.Errorf("Sharded() = %v", tb.Sharded())
			}
			q := `SELECT n FROM {{table "events"}} WHERE tenant = {tenant:String} AND x IN (SELECT y FROM {{table "event_ids"}});
ALTER TABLE {{alter "subject_keys"}} DELETE WHERE k = {k:String}`
			want := "SELECT n FROM " + tt.events + " WHERE tenant = {tenant:String} AND x IN (SELECT y FROM " + tb.Name("event_ids") + ");\n" +
				"ALTER TABLE " + tt.alter + " DELETE WHERE k = {k:String}"
			if got := tb.MustSQL(q); got != want {
				t.Errorf("SQL:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestTables_SQLRefusesWhatIsNotATableName(t *testing.T) {
	tb := shardedConfig().Tables()
	for _, q := range []string{
		`SELECT 1 FROM {{table "events; DROP TABLE x"}}`,
		`SELECT 1 FROM {{table ""}}`,
		`ALTER TABLE {{alter "a b"}} DELETE WHERE 1`,
		`SELECT 1 FROM {{tabel "events"}}`,
		`SELECT 1 FROM {{table "events"}`,
	} {
		if got, err := tb.SQL(q); err == nil {
			t.Errorf("SQL(%q) = %q, want an error", q, got)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustSQL did not panic on a broken template")
		}
	}()
	tb.MustSQL(`{{table}}`)
}

func TestTables_InsertSettingsPerMode(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		token string
		want  clickhouse.Settings
	}{
		{"single node", Config{}, "tok", nil},
		{"unsharded cluster without token", Config{Cluster: "c", Replicated: true}, "", nil},
		{"unsharded replicated cluster", Config{Cluster: "c", Replicated: true}, "tok", clickhouse.Settings{
			"insert_deduplicate": 1, "insert_deduplication_token": "tok", "deduplicate_blocks_in_dependent_materialized_views": 1}},
		{"sharded without token", shardedConfig(), "", clickhouse.Settings{"distributed_foreground_insert": 1}},
		{"sharded", shardedConfig(), "tok", clickhouse.Settings{"distributed_foreground_insert": 1,
			"insert_deduplicate": 1, "insert_deduplication_token": "tok", "deduplicate_blocks_in_dependent_materialized_views": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := tt.cfg.Tables()
			if got := tb.InsertSettings(tt.token); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("InsertSettings = %v, want %v", got, tt.want)
			}
			ctx := context.Background()
			got := clickhouse.InsertSettingsFrom(tb.InsertContext(ctx, tt.token))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("InsertContext carries %v, want %v", got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("settings do not validate: %v", err)
			}
		})
	}
}

func TestSQLSet_RendersOnceAndTheZeroValueIsSingleNode(t *testing.T) {
	const q = `SELECT 1 FROM {{table "events"}}`
	set := shardedConfig().Tables().Render(q)
	if got := set.Of(q); got != "SELECT 1 FROM events_all" {
		t.Errorf("Of = %q", got)
	}
	if got := set.Of(`SELECT 2 FROM {{table "event_ids"}}`); got != "SELECT 2 FROM event_ids_all" {
		t.Errorf("Of (not pre-rendered) = %q", got)
	}
	if !set.Tables().Sharded() {
		t.Error("set lost its mode")
	}
	var zero SQLSet
	if got := zero.Of(q); got != "SELECT 1 FROM events" {
		t.Errorf("zero SQLSet renders %q", got)
	}
}
