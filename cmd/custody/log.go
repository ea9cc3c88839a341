package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

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
			cfg, err := g.load()
			if err != nil {
				return err
			}
			store, err := storage.Open(cmd.Context(), cfg, cfg.Logger(os.Stderr))
			if err != nil {
				return err
			}
			defer store.Close()
			n, err := store.Events.Count(cmd.Context(), tenant)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), n)
			return nil
		},
	}
	count.Flags().StringVar(&tenant, "tenant", "", "count one tenant only")
	cmd.AddCommand(count)
	return cmd
}
