package main

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/storage"
)

func newLog(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Inspect the event log (opens the data directory: stop the server first when embedded)",
	}
	var tenant string
	count := &cobra.Command{
		Use:   "count",
		Short: "Count the distinct events in the log",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStorage(cmd.Context(), func(_ config.Config, store *storage.Storage) error {
				n, err := store.Events.Count(cmd.Context(), tenant)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), n)
				return nil
			})
		},
	}
	count.Flags().StringVar(&tenant, "tenant", "", "count one tenant only")
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Read the whole log as readers do and check no event is visible twice",
		Long: `Pages through the log in recorded order (as a projection rebuild would),
counting events, distinct ids, events visible more than once (must be 0) and
events whose values were crypto-shredded. Exits non-zero if any event is
visible twice. Prints progress to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStorage(cmd.Context(), func(_ config.Config, store *storage.Storage) error {
				return verifyLog(cmd, store)
			})
		},
	}
	cmd.AddCommand(count, verify)
	return cmd
}

// verifyLog pages through the whole log and reports what readers see.
func verifyLog(cmd *cobra.Command, store *storage.Storage) error {
	seen := map[uuid.UUID]bool{}
	var rows, twice, shredded int
	var cur eventlog.Cursor
	for {
		page, next, err := store.Events.Scan(cmd.Context(), cur, 10_000)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			rows++
			if seen[r.Event.ID] {
				twice++
			}
			seen[r.Event.ID] = true
			if r.Shredded {
				shredded++
			}
		}
		cur = next
		fmt.Fprintf(cmd.ErrOrStderr(), "\rverified %d events", rows)
	}
	fmt.Fprintln(cmd.ErrOrStderr())
	fmt.Fprintf(cmd.OutOrStdout(), "events %d\ndistinct %d\nvisible_twice %d\nshredded %d\n", rows, len(seen), twice, shredded)
	if twice > 0 {
		return fmt.Errorf("%d events are visible more than once", twice)
	}
	return nil
}
