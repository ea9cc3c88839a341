// Command ingest runs Custody's ingest role alone: POST /v1/events
// publishing to the broker, and the pipeline consuming from it into
// ClickHouse, with /healthz, /readyz and /metrics. Replicas are stateless
// and share the work through the broker's durable consumer (queue group);
// point them at a NATS JetStream cluster (broker.mode: nats) and a
// ClickHouse server (clickhouse.transport: native). It only wires packages.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/node"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	var configPath, addr string
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Run Custody's ingest role: HTTP ingest and the broker → ClickHouse pipeline",
		Long: `Runs POST /v1/events and the pipeline that moves events from the broker into
the ClickHouse event log, with /healthz, /readyz and /metrics.

For scale-out set broker.mode: nats (broker.urls) and clickhouse.transport:
native (clickhouse.native.addrs); replicas share the work through one durable
consumer. Configuration: --config FILE, then CUSTODY_* environment variables
(see ` + "`custody config env`" + `). SIGTERM drains requests and in-flight batches.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath, os.Environ())
			if err != nil {
				return err
			}
			if addr != "" {
				cfg.HTTP.Addr = addr
			}
			return node.Run(cmd.Context(), cfg, version, node.RoleIngest)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", os.Getenv("CUSTODY_CONFIG"), "YAML configuration file (env CUSTODY_CONFIG)")
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (env CUSTODY_HTTP_ADDR)")
	return cmd
}
