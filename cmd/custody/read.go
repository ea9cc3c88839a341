package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/inventory"
	"github.com/custodyhq/custody/internal/lineage"
	"github.com/custodyhq/custody/internal/node"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/storage"
)

// windowFlags are --from and --to: a window of event time.
type windowFlags struct{ from, to string }

func (w *windowFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&w.from, "from", "", "window start, inclusive (YYYY-MM-DD or RFC 3339); default unbounded")
	cmd.Flags().StringVar(&w.to, "to", "", "window end, exclusive (YYYY-MM-DD or RFC 3339); default unbounded")
}

func (w windowFlags) window() (projections.Window, error) {
	from, err := parseTime("--from", w.from)
	if err != nil {
		return projections.Window{}, err
	}
	to, err := parseTime("--to", w.to)
	if err != nil {
		return projections.Window{}, err
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return projections.Window{}, fmt.Errorf("--to: %s is not after --from %s", w.to, w.from)
	}
	return projections.Window{From: from, To: to}, nil
}

// parseTime reads a date or an RFC 3339 time; empty is the zero time.
func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is neither a date (2026-03-01) nor an RFC 3339 time (2026-03-01T12:00:00Z)", flag, s)
	}
	return t.UTC(), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newSubject(g *globalFlags) *cobra.Command {
	var tenant, id, purpose string
	var win windowFlags
	cmd := &cobra.Command{
		Use:   "subject",
		Short: "Print one person's record (JSON): every identifier linked to the one given, what is held, whom it went to",
		Example: `  custody subject --identifier email:jane@example.com --purpose "ticket 42"
  custody subject --identifier external:crm:C-1009 --tenant inkcartridges --from 2025-11-01 --purpose "DSAR req-7"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ident, err := identity.Parse(id)
			if err != nil {
				return fmt.Errorf("--identifier: %w", err)
			}
			w, err := win.window()
			if err != nil {
				return err
			}
			return g.withServices(cmd.Context(), func(_ config.Config, st *storage.Storage, svc node.Services) error {
				s, err := st.Inventory.Subject(cmd.Context(), tenant, ident, w)
				if err := audited(cmd.Context(), svc, tenant, ident, "cli.subject", purpose, err); err != nil {
					return err
				}
				return writeJSON(cmd.OutOrStdout(), struct {
					Person      projections.PersonID
					Identifiers []identity.Ref
					Merges      []projections.Merge
					Record      projections.Record
				}{s.ID, s.Identifiers, s.Merges, s.Record})
			})
		},
	}
	cmd.Flags().StringVar(&id, "identifier", "", "an identifier of the person: kind:value or external:namespace:value (required)")
	cmd.Flags().StringVar(&purpose, "purpose", "", "why you read this person's data (required; recorded in their access log)")
	_ = cmd.MarkFlagRequired("purpose")
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (default \"default\")")
	_ = cmd.MarkFlagRequired("identifier")
	win.add(cmd)
	return cmd
}

func newLineage(g *globalFlags) *cobra.Command {
	var tenant, id, element, direction, asOf, purpose string
	var depth, perHop int
	cmd := &cobra.Command{
		Use:   "lineage",
		Short: "Print the lineage of a person's data (JSON): where it came from, where it went, what was derived from it",
		Example: `  custody lineage --identifier email:jane@example.com --element contact.email/email --purpose "ticket 42"
  custody lineage --identifier email:jane@example.com --element inference.preferences/segment --direction upstream --purpose audit
  custody lineage --identifier email:jane@example.com --depth 5 --as-of 2026-01-01 --purpose audit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ident, err := identity.Parse(id)
			if err != nil {
				return fmt.Errorf("--identifier: %w", err)
			}
			req := inventory.LineageRequest{Direction: lineage.Direction(direction), Query: lineage.Query{Depth: depth, PerHop: perHop}}
			switch req.Direction {
			case lineage.DirUpstream, lineage.DirDownstream, lineage.DirBoth:
			default:
				return fmt.Errorf("--direction: %q is not upstream, downstream or both", direction)
			}
			if element != "" {
				cat, name, ok := strings.Cut(element, "/")
				if !ok || cat == "" || name == "" {
					return fmt.Errorf("--element: %q: want category/name, e.g. contact.email/email", element)
				}
				req.Category, req.Name = cat, name
			}
			if req.AsOf, err = parseTime("--as-of", asOf); err != nil {
				return err
			}
			return g.withServices(cmd.Context(), func(_ config.Config, st *storage.Storage, svc node.Services) error {
				sub, _, err := st.Inventory.Lineage(cmd.Context(), tenant, ident, req)
				if err := audited(cmd.Context(), svc, tenant, ident, "cli.lineage", purpose, err); err != nil {
					return err
				}
				return writeJSON(cmd.OutOrStdout(), sub)
			})
		},
	}
	cmd.Flags().StringVar(&id, "identifier", "", "an identifier of the person: kind:value (required)")
	cmd.Flags().StringVar(&purpose, "purpose", "", "why you read this person's data (required; recorded in their access log)")
	_ = cmd.MarkFlagRequired("purpose")
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (default \"default\")")
	cmd.Flags().StringVar(&element, "element", "", "start from this element, category/name; default the person (all their data)")
	cmd.Flags().StringVar(&direction, "direction", "downstream", "upstream (where it came from), downstream (where it went) or both")
	cmd.Flags().IntVar(&depth, "depth", 0, "most hops from the start; 0 is unlimited")
	cmd.Flags().IntVar(&perHop, "per-hop", 0, "most neighbours expanded per node; 0 is unlimited (a cut sets isPartial)")
	cmd.Flags().StringVar(&asOf, "as-of", "", "the graph as it stood at this time (YYYY-MM-DD or RFC 3339)")
	_ = cmd.MarkFlagRequired("identifier")
	return cmd
}

func newDataMap(g *globalFlags) *cobra.Command {
	var tenant string
	var asJSON bool
	var win windowFlags
	cmd := &cobra.Command{
		Use:   "datamap",
		Short: "Print the data map: categories by source, purpose, recipient kind and disclosure type, with counts of people",
		Example: `  custody datamap --tenant inkcartridges --from 2025-11-01 --to 2026-11-01
  custody datamap --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := win.window()
			if err != nil {
				return err
			}
			return g.withStorage(cmd.Context(), func(_ config.Config, st *storage.Storage) error {
				rows, err := st.Inventory.DataMap(cmd.Context(), tenant, w)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), rows)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "FLOW\tCATEGORY\tSOURCE KIND\tPURPOSE\tRECIPIENT KIND\tROLE\tDISCLOSURE\tPEOPLE")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.Flow, r.Category, dash(r.SourceKind), dash(r.Purpose),
						dash(r.RecipientKind), dash(r.RecipientRole), dash(r.Disclosure), r.People)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (default \"default\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	win.add(cmd)
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newProjections(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "projections",
		Short: "Show each stored projection's checkpoint: version, last build, and how far it reaches against the log",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStorage(cmd.Context(), func(_ config.Config, st *storage.Storage) error {
				status, err := st.Projections.Status(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PROJECTION\tVERSION\tSTATE\tVIEW\tROWS\tTHROUGH\tLOG THROUGH\tUP TO DATE\tLAST BUILD\tBUILD RATE")
				for _, s := range status {
					rate := "-"
					if s.BuildSeconds > 0 {
						rate = fmt.Sprintf("%.0f events/s", float64(s.BuiltEvents)/s.BuildSeconds)
					}
					fmt.Fprintf(tw, "%s\tv%d\t%s\t%s\t%d\t%s\t%s\t%t\t%s\t%s\n", s.Name, s.Version, s.State, attached(s.Attached),
						s.Rows, stamp(s.Through), stamp(s.LogThrough), s.UpToDate(), stamp(s.BuiltAt), rate)
				}
				return tw.Flush()
			})
		},
	}
	return cmd
}

func attached(b bool) string {
	if b {
		return "attached"
	}
	return "DETACHED"
}

func stamp(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// audited records a read of a person's data in their access log (whether
// or not the person was found) and returns the read's error, or the
// audit's: a read that cannot be recorded fails.
func audited(ctx context.Context, svc node.Services, tenant string, id identity.Identifier, op, purpose string, readErr error) error {
	if readErr != nil && !errors.Is(readErr, inventory.ErrNotFound) {
		return readErr
	}
	if err := svc.Audit.Record(ctx, audit.Access{Tenant: tenant, Identifier: id, Actor: cliActor(), Role: "admin", Operation: op,
		Purpose: purpose, Found: readErr == nil}); err != nil {
		return err
	}
	return readErr
}
