package clickhouse

import (
	"context"
	"testing"
)

func TestSettingsClause_RendersPlainValuesInNameOrder(t *testing.T) {
	got, err := Settings{"insert_deduplication_token": "ab-12:x.y_z", "distributed_foreground_insert": 1, "b": true, "c": false}.Clause()
	if err != nil {
		t.Fatal(err)
	}
	want := " SETTINGS b = 1, c = 0, distributed_foreground_insert = 1, insert_deduplication_token = 'ab-12:x.y_z'"
	if got != want {
		t.Fatalf("clause %q, want %q", got, want)
	}
	if got, err := Settings(nil).Clause(); got != "" || err != nil {
		t.Fatalf("empty settings: %q, %v", got, err)
	}
}

func TestSettingsValidate_RefusesWhatCouldChangeTheSQL(t *testing.T) {
	for name, s := range map[string]Settings{
		"quote in value":       {"insert_deduplication_token": "x' , max_threads = '1"},
		"backslash in value":   {"insert_deduplication_token": `x\`},
		"space in value":       {"insert_deduplication_token": "a b"},
		"name with space":      {"max threads": 1},
		"name with semicolon":  {"a;DROP": 1},
		"unsupported type":     {"max_threads": 1.5},
		"nested value":         {"x": []string{"a"}},
		"name starting digits": {"1x": 1},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: %v accepted", name, s)
		}
		if _, err := s.Clause(); err == nil {
			t.Errorf("%s: Clause rendered %v", name, s)
		}
	}
}

func TestWithInsertSettings_TravelsInTheContext(t *testing.T) {
	ctx := context.Background()
	if InsertSettingsFrom(ctx) != nil {
		t.Fatal("a bare context has settings")
	}
	s := Settings{"a": 1}
	got := InsertSettingsFrom(WithInsertSettings(ctx, s))
	if len(got) != 1 || got["a"] != 1 {
		t.Fatalf("settings %v, want %v", got, s)
	}
}

func TestWithSelectSettings_TravelsApartFromInsertSettings(t *testing.T) {
	ctx := context.Background()
	if SelectSettingsFrom(ctx) != nil {
		t.Fatal("a bare context has select settings")
	}
	ctx = WithInsertSettings(WithSelectSettings(ctx, Settings{"max_threads": 1}), Settings{"a": 1})
	if got := SelectSettingsFrom(ctx); len(got) != 1 || got["max_threads"] != 1 {
		t.Fatalf("select settings %v, want max_threads 1", got)
	}
	if got := InsertSettingsFrom(ctx); len(got) != 1 || got["a"] != 1 {
		t.Fatalf("insert settings %v, want a 1", got)
	}
	if got := SelectSettingsFrom(WithSelectSettings(ctx, Settings{"priority": 10})); len(got) != 1 || got["priority"] != 10 {
		t.Fatalf("an inner WithSelectSettings gave %v; it replaces the outer one", got)
	}
}
