package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/ingest"
	"github.com/custodyhq/custody/internal/node"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/storage"
)

// newRejected is `custody rejected`: list, show and replay rejected events.
func newRejected(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rejected",
		Short: "List, inspect and replay rejected events (opens the data directory: stop the server first when embedded)",
		Long: `Events that fail validation are not lost: each is kept with the reason it was
refused (which field, why) and the bytes as received, encrypted at rest, for
inspection and replay. A rejection's status is rejected, replayed (the event
is now in the log) or still_rejected (a replay found it still invalid).

Fix the producer or extend the tenant's taxonomy (taxonomy.extensions in the
configuration), then replay: each event is validated again with the current
taxonomy and, if valid, appended to the event log. Replaying twice is
harmless: the log is idempotent by event id.`,
	}
	cmd.AddCommand(newRejectedList(g), newRejectedShow(g), newRejectedReplay(g))
	return cmd
}

func newRejectedList(g *globalFlags) *cobra.Command {
	var (
		f            rejected.Filter
		status       string
		since, until string
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List rejected events, newest first",
		Long: `List rejected events, newest first: time, rejection id, tenant, stage (http or
pipeline), the event id as sent, its type, status and the first error. Payloads
are never printed here; see ` + "`custody rejected show --payload`" + `.

--since and --until take an RFC 3339 time (2026-03-01T12:00:00Z), a date
(2026-03-01, UTC) or a duration meaning that long ago (24h, 90m).`,
		Example: `  custody rejected list --tenant inkcartridges --since 24h
  custody rejected list --status still_rejected --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if f.Since, err = parseWhen(since, now); err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			if f.Until, err = parseWhen(until, now); err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			if f.Status, err = parseStatus(status); err != nil {
				return err
			}
			if f.Limit < 1 || f.Limit > rejected.MaxLimit {
				return fmt.Errorf("--limit must be 1..%d, got %d", rejected.MaxLimit, f.Limit)
			}
			return withRejected(cmd, g, func(s *storage.Storage, store *rejected.Store) error {
				list, err := store.List(cmd.Context(), f)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]rejectionJSON, len(list))
					for i, r := range list {
						out[i] = toJSON(r, false)
					}
					return writeJSONTo(cmd.OutOrStdout(), out)
				}
				if len(list) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "no rejected events")
					return nil
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "TIME\tID\tTENANT\tSTAGE\tEVENT ID\tTYPE\tSTATUS\tERROR")
				for _, r := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.At.Format("2006-01-02 15:04:05.000Z"), r.ID, r.Tenant,
						r.Stage, orDash(cell(r.EventID, 40)), orDash(cell(r.EventType, 30)), r.Status, firstError(r.Errors))
				}
				if err := w.Flush(); err != nil {
					return err
				}
				if len(list) == f.Limit {
					fmt.Fprintf(cmd.ErrOrStderr(), "showing the newest %d; narrow with --since/--until or raise --limit (max %d)\n", f.Limit, rejected.MaxLimit)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&f.Tenant, "tenant", "", "one tenant only")
	cmd.Flags().StringVar(&status, "status", "", "rejected, replayed or still_rejected")
	cmd.Flags().StringVar(&since, "since", "", "only rejections at or after this time (RFC 3339, date, or duration ago)")
	cmd.Flags().StringVar(&until, "until", "", "only rejections before this time")
	cmd.Flags().IntVar(&f.Limit, "limit", rejected.DefaultLimit, fmt.Sprintf("at most this many (max %d)", rejected.MaxLimit))
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func newRejectedShow(g *globalFlags) *cobra.Command {
	var payload, asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one rejected event: where and why it was refused",
		Long: `Show one rejected event: tenant, stage, event id and type as sent, status and
every field error (path and reason; reasons never contain values).

--payload also prints the event exactly as received, decrypted. It contains
personal data (raw identifiers and values): a warning goes to stderr; do not
paste it into tickets, chats or logs.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			return withRejected(cmd, g, func(s *storage.Storage, store *rejected.Store) error {
				r, err := store.Get(cmd.Context(), id)
				if err != nil {
					return err
				}
				if payload {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning: the payload is the event as received and contains personal data (identifiers and values); handle it accordingly")
				}
				if asJSON {
					return writeJSONTo(cmd.OutOrStdout(), toJSON(r, payload))
				}
				out := cmd.OutOrStdout()
				w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintf(w, "id\t%s\n", r.ID)
				fmt.Fprintf(w, "rejected at\t%s\n", r.At.Format(time.RFC3339Nano))
				fmt.Fprintf(w, "tenant\t%s\n", r.Tenant)
				fmt.Fprintf(w, "stage\t%s (event %d of its batch)\n", r.Stage, r.Index)
				fmt.Fprintf(w, "event id\t%s\n", orDash(cell(r.EventID, 200)))
				fmt.Fprintf(w, "type\t%s\n", orDash(r.EventType))
				fmt.Fprintf(w, "status\t%s\n", r.Status)
				if !r.ReplayedAt.IsZero() {
					fmt.Fprintf(w, "last replay\t%s\n", r.ReplayedAt.Format(time.RFC3339Nano))
				}
				if err := w.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(out, "errors (%d):\n", len(r.Errors))
				for _, e := range r.Errors {
					fmt.Fprintf(out, "  %s\n", e.Error())
				}
				if payload {
					fmt.Fprintf(out, "payload (%d bytes):\n", len(r.Payload))
					out.Write(r.Payload)
					fmt.Fprintln(out)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&payload, "payload", false, "also print the decrypted payload (contains personal data)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newRejectedReplay(g *globalFlags) *cobra.Command {
	var (
		all    bool
		tenant string
		status string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "replay ID... | --all [--tenant T]",
		Short: "Validate rejected events again and append the valid ones to the event log",
		Long: `Validate rejected events again with the current taxonomy (including the
tenant extensions in the configuration) and append the ones now valid to the
event log. Each is then marked replayed; one still invalid is marked
still_rejected with its current errors. One line per rejection says what
happened: replayed (accepted, or duplicate when the log already had it),
still_rejected with the first error, not_found, or failed with the reason.

--all replays every rejection not yet replayed (status rejected or
still_rejected), optionally of one --tenant or one --status. The command fails
when any id was not found or could not be replayed; still_rejected is an
answer, not a failure.`,
		Example: `  custody rejected replay 0193c6c4-7d1e-7c3a-9a55-3f4f2b1d9e10
  custody rejected replay --all --tenant inkcartridges`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return errors.New("give rejection ids or --all, not both")
			case !all && len(args) == 0:
				return errors.New("give one or more rejection ids, or --all")
			case !all && (tenant != "" || status != ""):
				return errors.New("--tenant and --status select rejections for --all")
			}
			st, err := parseStatus(status)
			if err != nil {
				return err
			}
			ids := make([]uuid.UUID, 0, len(args))
			for _, a := range args {
				id, err := parseID(a)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			tax, err := node.LoadTaxonomy(cfg)
			if err != nil {
				return err
			}
			opts := event.Options{Vocabulary: tax, PhoneRegions: cfg.PhoneRegions()}
			return withRejected(cmd, g, func(s *storage.Storage, store *rejected.Store) error {
				if all {
					if ids, err = pendingIDs(cmd, store, tenant, st); err != nil {
						return err
					}
					if len(ids) == 0 {
						fmt.Fprintln(cmd.OutOrStdout(), "nothing to replay")
						return nil
					}
				}
				report, err := store.Replay(cmd.Context(), ids, opts, ingest.LogSink{Log: s.Events})
				if asJSON {
					if jerr := writeJSONTo(cmd.OutOrStdout(), toReplayJSON(report)); jerr != nil {
						return errors.Join(err, jerr)
					}
				} else {
					printReplay(cmd.OutOrStdout(), report)
				}
				if err != nil {
					return err
				}
				if n := report.NotFound + report.Failed; n > 0 {
					return fmt.Errorf("%d of %d rejections could not be replayed", n, len(report.Results))
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "replay every rejection not yet replayed")
	cmd.Flags().StringVar(&tenant, "tenant", "", "with --all: one tenant only")
	cmd.Flags().StringVar(&status, "status", "", "with --all: only rejected or only still_rejected")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// withRejected opens storage, runs f with the rejected store, and closes.
func withRejected(cmd *cobra.Command, g *globalFlags, f func(*storage.Storage, *rejected.Store) error) error {
	return g.withStorage(cmd.Context(), func(_ config.Config, s *storage.Storage) error {
		return f(s, s.Rejected())
	})
}

// pendingIDs pages through every rejection --all selects: not replayed,
// or of the given status.
func pendingIDs(cmd *cobra.Command, store *rejected.Store, tenant string, status rejected.Status) ([]uuid.UUID, error) {
	if status == rejected.StatusReplayed {
		return nil, errors.New("--all replays rejections not replayed yet; --status must be rejected or still_rejected")
	}
	f := rejected.Filter{Tenant: tenant, Status: status, Limit: rejected.MaxLimit}
	var ids []uuid.UUID
	for {
		page, err := store.List(cmd.Context(), f)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if r.Status != rejected.StatusReplayed {
				ids = append(ids, r.ID)
			}
		}
		if len(page) < f.Limit {
			return ids, nil
		}
		f.After = page[len(page)-1].Cursor()
	}
}

func printReplay(w io.Writer, report rejected.ReplayReport) {
	for _, r := range report.Results {
		line := fmt.Sprintf("%s  %s", r.ID, r.Outcome)
		switch r.Outcome {
		case rejected.OutcomeReplayed:
			line += fmt.Sprintf(" (%s)  tenant %s  event %s", r.Verdict, r.Tenant, r.EventID)
		case rejected.OutcomeStillRejected:
			line += "  " + firstError(r.Errors)
		case rejected.OutcomeFailed:
			line += "  " + r.Err.Error()
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "replayed %d, still rejected %d, not found %d, failed %d\n",
		report.Replayed, report.StillRejected, report.NotFound, report.Failed)
}

type rejectionJSON struct {
	ID         uuid.UUID          `json:"id"`
	Tenant     string             `json:"tenant"`
	RejectedAt time.Time          `json:"rejected_at"`
	Stage      string             `json:"stage"`
	Index      int                `json:"index"`
	EventID    string             `json:"event_id,omitempty"`
	EventType  string             `json:"event_type,omitempty"`
	Status     rejected.Status    `json:"status"`
	ReplayedAt *time.Time         `json:"replayed_at,omitempty"`
	Errors     []event.FieldError `json:"errors"`
	// Payload is the event as received: raw JSON when it is valid JSON,
	// else a string.
	Payload any `json:"payload,omitempty"`
}

func toJSON(r rejected.Rejection, payload bool) rejectionJSON {
	out := rejectionJSON{ID: r.ID, Tenant: r.Tenant, RejectedAt: r.At, Stage: r.Stage, Index: r.Index,
		EventID: r.EventID, EventType: r.EventType, Status: r.Status, Errors: r.Errors}
	if out.Errors == nil {
		out.Errors = []event.FieldError{}
	}
	if !r.ReplayedAt.IsZero() {
		at := r.ReplayedAt
		out.ReplayedAt = &at
	}
	if payload {
		if json.Valid(r.Payload) {
			out.Payload = json.RawMessage(r.Payload)
		} else {
			out.Payload = strings.ToValidUTF8(string(r.Payload), "\uFFFD")
		}
	}
	return out
}

type replayJSON struct {
	Results       []replayResultJSON `json:"results"`
	Replayed      int                `json:"replayed"`
	StillRejected int                `json:"still_rejected"`
	NotFound      int                `json:"not_found"`
	Failed        int                `json:"failed"`
}

type replayResultJSON struct {
	ID      uuid.UUID          `json:"id"`
	Tenant  string             `json:"tenant,omitempty"`
	EventID string             `json:"event_id,omitempty"`
	Outcome rejected.Outcome   `json:"outcome"`
	Verdict ingest.Verdict     `json:"verdict,omitempty"`
	Errors  []event.FieldError `json:"errors,omitempty"`
	Error   string             `json:"error,omitempty"`
}

func toReplayJSON(r rejected.ReplayReport) replayJSON {
	out := replayJSON{Results: make([]replayResultJSON, len(r.Results)), Replayed: r.Replayed,
		StillRejected: r.StillRejected, NotFound: r.NotFound, Failed: r.Failed}
	for i, res := range r.Results {
		out.Results[i] = replayResultJSON{ID: res.ID, Tenant: res.Tenant, EventID: res.EventID,
			Outcome: res.Outcome, Verdict: res.Verdict, Errors: res.Errors}
		if res.Err != nil {
			out.Results[i].Error = res.Err.Error()
		}
	}
	return out
}

func writeJSONTo(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func parseID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return uuid.Nil, fmt.Errorf("%q is not a rejection id (a UUID, as `custody rejected list` prints)", cell(s, 60))
	}
	return id, nil
}

func parseStatus(s string) (rejected.Status, error) {
	st := rejected.Status(strings.TrimSpace(s))
	if st != "" && !st.Valid() {
		return "", fmt.Errorf("--status must be rejected, replayed or still_rejected, got %q", cell(s, 40))
	}
	return st, nil
}

// parseWhen reads an RFC 3339 time, a UTC date, or a duration ago; "" is
// the zero time (no bound).
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-03-01T12:00:00Z), a date (2026-03-01) or a duration ago (24h)", cell(s, 60))
}

// firstError renders the first error, and how many more there are.
func firstError(errs []event.FieldError) string {
	if len(errs) == 0 {
		return "-"
	}
	s := cell(errs[0].Error(), 100)
	if len(errs) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(errs)-1)
	}
	return s
}

// cell makes s fit one table cell: one line, at most n bytes.
func cell(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
