// Command graphql runs Custody's GraphQL role alone: the GraphQL API for
// privacy teams (/graphql) with /healthz, /readyz and /metrics, on
// ClickHouse, without a broker or pipeline. Replicas keep no state: point
// them at a ClickHouse server or cluster (clickhouse.transport: native)
// and put a load balancer in front. It only wires packages.
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
		Use:   "graphql",
		Short: "Run Custody's GraphQL role: the API for privacy teams, stateless",
		Long: `Runs the GraphQL API at /graphql (POST JSON, GET for queries) with /healthz,
/readyz and /metrics: people's records, lineage, right-to-know reports, the
data map and recipients, the rights-request queue and its mutations, rejected
events and the access log. Every request needs Authorization: Bearer <token>
(analyst or admin; mutations need admin); every read of a person's data is
recorded in their access log before it is answered.

The process keeps no state of its own: run replicas against a ClickHouse
server or cluster (clickhouse.transport: native, clickhouse.native.addrs)
behind a load balancer, with the same identifier and master keys as the
ingest role (CUSTODY_IDENTIFIER_KEY, CUSTODY_MASTER_KEY) and tokens from
auth.tokens. Configuration: --config FILE, then CUSTODY_* environment
variables (see ` + "`custody config env`" + `). SIGTERM drains requests in flight.`,
		Example: `  CUSTODY_CLICKHOUSE_TRANSPORT=native CUSTODY_CLICKHOUSE_ADDRS=clickhouse:9000 \
    graphql --config /etc/custody/custody.yaml --addr :8080`,
		Run: func(ctx context.Context, cfg config.Config) error {
			return node.RunGraphQL(ctx, cfg, version)
		},
	})
}
