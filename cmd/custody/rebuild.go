package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/progress"
	"github.com/custodyhq/custody/internal/projectionstore"
	"github.com/custodyhq/custody/internal/storage"
)

func newRebuild(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rebuild [projection...]",
		Short: "Replay the event log into fresh projection tables and swap them in",
		Long: fmt.Sprintf(`Rebuilds the named projections (all when none is named: %v) from the
event log: each is folded partition by partition into a fresh table, with a
progress bar, then swapped in atomically. Readers see the old table until the
swap; events appended during the rebuild are folded too. With the embedded
engine, stop the server first (one process owns the data directory).`, projectionstore.Names()),
		Example: `  custody rebuild
  custody rebuild datamap_facts`,
		RunE: func(cmd *cobra.Command, names []string) error {
			return g.withStorage(cmd.Context(), func(_ config.Config, st *storage.Storage) error {
				var bar *progress.Reporter
				var current string
				report := func(name string, done, total uint64) {
					if name != current {
						if bar != nil {
							bar.Finish()
						}
						bar, current = progress.New(cmd.ErrOrStderr(), int64(total), "rebuild "+name, progress.WithUnit("events")), name
					}
					bar.Add(int64(done) - bar.Count())
				}
				results, err := st.Projections.Rebuild(cmd.Context(), names, report)
				if bar != nil {
					bar.Finish()
				}
				for _, r := range results {
					fmt.Fprintf(cmd.OutOrStdout(), "%s v%d: %s events in %s (%s events/s), live in %s\n", r.Name, r.Version,
						progress.Thousands(int64(r.Events)), progress.Duration(r.Duration), progress.Thousands(int64(r.Rate())), r.Table)
				}
				return err
			})
		},
	}
}
