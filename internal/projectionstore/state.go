package projectionstore

import (
	"context"
	"fmt"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
)

// Projection states.
const (
	stateBuilding = "building"
	stateLive     = "live"
)

type stateRow struct {
	Name         string    `ch:"name"`
	Version      uint32    `ch:"version"`
	TableName    string    `ch:"table_name"`
	State        string    `ch:"state"`
	BuiltAt      time.Time `ch:"built_at"`
	BuiltThrough time.Time `ch:"built_through"`
	Events       uint64    `ch:"events"`
	Seconds      float64   `ch:"seconds"`
	UpdatedAt    time.Time `ch:"updated_at"`
}

type stateKey struct {
	name    string
	version uint32
}

func (s *Store) putState(ctx context.Context, d definition, state string, r Result, started time.Time) error {
	row := stateRow{Name: d.Name, Version: uint32(d.Version), TableName: tableOf(d), State: state,
		BuiltAt: started.UTC(), BuiltThrough: r.Through.UTC(), Events: r.Events, Seconds: r.Duration.Seconds(),
		UpdatedAt: s.cfg.Now().UTC()}
	if row.BuiltThrough.IsZero() {
		row.BuiltThrough = time.Unix(0, 0).UTC()
	}
	if err := s.conn.Insert(s.tables.InsertContext(ctx, ""), s.tables.Name(tableState), []stateRow{row}); err != nil {
		return fmt.Errorf("record projection %s state: %w", d.Name, err)
	}
	return nil
}

func (s *Store) states(ctx context.Context) (map[stateKey]stateRow, error) {
	var rows []stateRow
	if err := s.conn.Select(ctx, &rows, s.sql.state, nil); err != nil {
		return nil, fmt.Errorf("read projection state: %w", err)
	}
	out := make(map[stateKey]stateRow, len(rows))
	for _, r := range rows {
		out[stateKey{r.Name, r.Version}] = r
	}
	return out, nil
}

// Status is a projection's checkpoint: its live version and last build, and
// how far its table reaches now against the log.
type Status struct {
	Name    string
	Version int
	Table   string
	// State is "live", "building" (a rebuild began and has not finished:
	// it failed or is running) or "missing" (never built).
	State string
	// Attached reports whether the view that feeds it from the log exists:
	// without it the projection stops at its last build.
	Attached bool
	// BuiltAt, BuiltThrough, BuiltEvents and BuildSeconds describe the last
	// build.
	BuiltAt      time.Time
	BuiltThrough time.Time
	BuiltEvents  uint64
	BuildSeconds float64
	// Rows is the table's row count; Through the latest recorded time of an
	// event folded into it; LogThrough the latest recorded time in the log.
	// With the view attached the two are equal, up to duplicates.
	Rows       uint64
	Through    time.Time
	LogEvents  uint64
	LogThrough time.Time
}

// UpToDate reports whether the projection has folded the latest event of
// the log.
func (s Status) UpToDate() bool {
	return s.State == stateLive && s.Attached && !s.Through.Before(s.LogThrough)
}

// Status returns every projection's checkpoint.
func (s *Store) Status(ctx context.Context) ([]Status, error) {
	states, err := s.states(ctx)
	if err != nil {
		return nil, err
	}
	var logHead []head
	if err := s.conn.Select(ctx, &logHead, s.sql.logHead, nil); err != nil {
		return nil, fmt.Errorf("read log head: %w", err)
	}
	var out []Status
	for _, d := range definitions() {
		table := tableOf(d)
		st := Status{Name: d.Name, Version: d.Version, Table: table, State: "missing"}
		if r, ok := states[stateKey{d.Name, uint32(d.Version)}]; ok {
			st.State, st.BuiltAt, st.BuiltThrough, st.BuiltEvents, st.BuildSeconds = r.State, r.BuiltAt, r.BuiltThrough, r.Events, r.Seconds
		}
		var views []struct {
			N uint64 `ch:"n"`
		}
		if err := s.conn.Select(ctx, &views, queryViewExists, clickhouse.Params{"name": viewOf(table)}); err != nil {
			return nil, fmt.Errorf("projection %s: %w", d.Name, err)
		}
		st.Attached = len(views) == 1 && views[0].N == 1
		if st.State != "missing" {
			q, err := s.render(queryTableHead, map[string]string{"Table": table})
			if err != nil {
				return nil, err
			}
			var h []head
			if err := s.conn.Select(ctx, &h, q, nil); err != nil {
				return nil, fmt.Errorf("projection %s: %w", d.Name, err)
			}
			if len(h) == 1 {
				st.Rows, st.Through = h[0].N, h[0].At
			}
		}
		if len(logHead) == 1 {
			st.LogEvents, st.LogThrough = logHead[0].N, logHead[0].At
		}
		out = append(out, st)
	}
	return out, nil
}
