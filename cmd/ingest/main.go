// Command ingest runs Custody's ingest role alone: POST /v1/events
// publishing to the broker, and the pipeline consuming from it into
// ClickHouse, with /healthz, /readyz and /metrics. Replicas are stateless
// and share the work through the broker's durable consumer (queue group);
// point them at a NATS JetStream cluster (broker.mode: nats) and a
// ClickHouse server (clickhouse.transport: native). It only wires packages.
package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/node"
	"github.com/custodyhq/custody/internal/rolecmd"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() { rolecmd.Main(newRoot()) }

func newRoot() *cobra.Command {
	return rolecmd.New(rolecmd.Spec{
		Use:   "ingest",
		Short: "Run Custody's ingest role: HTTP ingest and the broker → ClickHouse pipeline",
		Long: `Runs POST /v1/events and the pipeline that moves events from the broker into
the ClickHouse event log, with /healthz, /readyz and /metrics.

For scale-out set broker.mode: nats (broker.urls) and clickhouse.transport:
native (clickhouse.native.addrs); replicas share the work through one durable
consumer. Configuration: --config FILE, then CUSTODY_* environment variables
(see ` + "`custody config env`" + `). SIGTERM drains requests and in-flight batches.`,
		Run: func(ctx context.Context, cfg config.Config) error {
			return node.Run(ctx, cfg, version, node.RoleIngest)
		},
	})
}
