package main

import (
	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/node"
)

func newServe(g *globalFlags) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the single-node server (embedded ClickHouse by default)",
		Long: `Run Custody on one node: storage (embedded ClickHouse through chDB under
<data-dir>/clickhouse, or a ClickHouse server with clickhouse.transport=native),
migrations, and the HTTP API with /healthz, /readyz and /metrics.
SIGTERM or Ctrl-C shuts down gracefully: requests in flight finish and the
engine is closed cleanly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if addr != "" {
				cfg.HTTP.Addr = addr
			}
			return node.Run(cmd.Context(), cfg, version, node.RoleSingleNode)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (env CUSTODY_HTTP_ADDR, default 127.0.0.1:8080)")
	return cmd
}
