// Package rolecmd is the command line shared by the single-role binaries
// (cmd/ingest, cmd/graphql): --config and --addr, configuration from the
// file then CUSTODY_* variables, SIGINT/SIGTERM ending the run, and errors
// printed with the binary's name.
package rolecmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/config"
)

// Spec describes one role's command.
type Spec struct {
	Use, Short, Long, Example string
	// Run runs the role on the loaded configuration until ctx ends.
	Run func(ctx context.Context, cfg config.Config) error
}

// New returns the role's command.
func New(s Spec) *cobra.Command {
	var configPath, addr string
	cmd := &cobra.Command{
		Use: s.Use, Short: s.Short, Long: s.Long, Example: s.Example,
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
			return s.Run(cmd.Context(), cfg)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", os.Getenv("CUSTODY_CONFIG"), "YAML configuration file (env CUSTODY_CONFIG)")
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (env CUSTODY_HTTP_ADDR, default 127.0.0.1:8080)")
	return cmd
}

// Main executes cmd until SIGINT or SIGTERM and exits 1 on error.
func Main(cmd *cobra.Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmd.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, cmd.Name()+":", err)
		os.Exit(1)
	}
}
