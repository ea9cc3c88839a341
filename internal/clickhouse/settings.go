package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
)

// Settings are ClickHouse settings for one statement, e.g.
// {"insert_deduplication_token": "…", "distributed_foreground_insert": 1}
// for an INSERT or {"max_threads": 1, "priority": 10} for a SELECT.
// They are chosen by Custody's code, never taken from users: names are
// plain identifiers, values are integers, booleans or strings of letters,
// digits and "_.:-" (Validate), so that a transport which can pass settings
// only in SQL text (chDB) renders them without quoting rules to get wrong.
type Settings map[string]any

var (
	settingName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	settingValue = regexp.MustCompile(`^[A-Za-z0-9_.:-]*$`)
)

// Validate reports the first setting that is not a plain name with an
// integer, boolean or plain string value.
func (s Settings) Validate() error {
	for _, name := range s.names() {
		if !settingName.MatchString(name) {
			return fmt.Errorf("clickhouse: setting name %q is not a plain identifier", name)
		}
		if _, err := s.text(name); err != nil {
			return err
		}
	}
	return nil
}

func (s Settings) names() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// text renders one value as a ClickHouse literal.
func (s Settings) text(name string) (string, error) {
	switch v := s[name].(type) {
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case bool:
		if v {
			return "1", nil
		}
		return "0", nil
	case string:
		if !settingValue.MatchString(v) {
			return "", fmt.Errorf("clickhouse: setting %s: value has characters other than letters, digits and _.:-", name)
		}
		return "'" + v + "'", nil
	default:
		return "", fmt.Errorf("clickhouse: setting %s: %T value (want int, bool or string)", name, v)
	}
}

// Clause renders s as a SETTINGS clause, " SETTINGS a = 1, b = 'x'" in name
// order, or "" when s is empty.
func (s Settings) Clause() (string, error) {
	if len(s) == 0 {
		return "", nil
	}
	if err := s.Validate(); err != nil {
		return "", err
	}
	out := " SETTINGS "
	for i, name := range s.names() {
		v, _ := s.text(name)
		if i > 0 {
			out += ", "
		}
		out += name + " = " + v
	}
	return out, nil
}

type insertSettingsKey struct{}

// WithInsertSettings returns ctx carrying settings that Conn.Insert applies
// to the INSERT it runs with ctx (see Conn). Exec and Select ignore them:
// their SQL is written by the caller, which puts a SETTINGS clause in it.
// Settings of an outer WithInsertSettings are replaced, not merged.
func WithInsertSettings(ctx context.Context, s Settings) context.Context {
	return context.WithValue(ctx, insertSettingsKey{}, s)
}

// InsertSettingsFrom returns the settings WithInsertSettings put in ctx, or
// nil.
func InsertSettingsFrom(ctx context.Context) Settings {
	s, _ := ctx.Value(insertSettingsKey{}).(Settings)
	return s
}

type selectSettingsKey struct{}

// WithSelectSettings returns ctx carrying settings that Conn.Select applies
// to every SELECT it runs with ctx (see Conn). They are for whoever runs a
// whole read on behalf of someone else, such as the read side's admission
// of person reads (max_threads, priority), and cannot write the SETTINGS
// clause of each query the read makes; a query's own SETTINGS clause wins
// over them. Exec and Insert ignore them. Settings of an outer
// WithSelectSettings are replaced, not merged.
func WithSelectSettings(ctx context.Context, s Settings) context.Context {
	return context.WithValue(ctx, selectSettingsKey{}, s)
}

// SelectSettingsFrom returns the settings WithSelectSettings put in ctx, or
// nil.
func SelectSettingsFrom(ctx context.Context) Settings {
	s, _ := ctx.Value(selectSettingsKey{}).(Settings)
	return s
}
