package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/storage"
)

func newMigrate(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply or inspect the ClickHouse schema migrations",
		Long: `Migrations live in schema/clickhouse (embedded in the binary) and are applied
in order; serve applies them at start too. With clickhouse.cluster.name set
they run ON CLUSTER with Replicated engines.`,
	}
	up := &cobra.Command{
		Use:   "up",
		Short: "Apply pending migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			log := cfg.Logger(os.Stderr)
			conn, err := storage.OpenConn(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer conn.Close()
			m, err := storage.Migrator(conn, cfg, log)
			if err != nil {
				return err
			}
			ran, err := m.Up(cmd.Context())
			for _, mig := range ran {
				fmt.Fprintf(cmd.OutOrStdout(), "applied %03d_%s (%d statements)\n", mig.Version, mig.Name, len(mig.Statements))
			}
			if err != nil {
				return err
			}
			if len(ran) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "schema is up to date")
			}
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "List applied migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			conn, err := storage.OpenConn(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer conn.Close()
			m, err := storage.Migrator(conn, cfg, cfg.Logger(os.Stderr))
			if err != nil {
				return err
			}
			applied, err := m.Status(cmd.Context())
			if err != nil {
				return err
			}
			done := map[uint32]bool{}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tNAME\tAPPLIED")
			for _, a := range applied {
				done[a.Version] = true
				fmt.Fprintf(w, "%03d\t%s\t%s\n", a.Version, a.Name, a.At.UTC().Format("2006-01-02 15:04:05Z"))
			}
			for _, mig := range m.Migrations() {
				if !done[uint32(mig.Version)] {
					fmt.Fprintf(w, "%03d\t%s\tpending\n", mig.Version, mig.Name)
				}
			}
			return w.Flush()
		},
	}
	cmd.AddCommand(up, status)
	return cmd
}
