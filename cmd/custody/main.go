// Command custody is Custody's single-node server and operator CLI. It only
// wires packages together: configuration, storage, HTTP.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/storage"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "custody:", err)
		os.Exit(1)
	}
}

// globalFlags are shared by every command.
type globalFlags struct {
	configPath string
	dataDir    string
	dev        bool
}

// load reads the configuration: file, then environment, then flags.
func (g *globalFlags) load() (config.Config, error) {
	env := os.Environ()
	if g.dataDir != "" {
		env = append(env, "CUSTODY_DATA_DIR="+g.dataDir)
	}
	if g.dev {
		env = append(env, "CUSTODY_DEV=true")
	}
	return config.Load(g.configPath, env)
}

// withStorage loads the configuration, opens storage (applying pending
// migrations), runs f and closes storage, returning f's error first.
func (g *globalFlags) withStorage(ctx context.Context, f func(config.Config, *storage.Storage) error) error {
	cfg, err := g.load()
	if err != nil {
		return err
	}
	s, err := storage.Open(ctx, cfg, cfg.Logger(os.Stderr))
	if err != nil {
		return err
	}
	err = f(cfg, s)
	if cerr := s.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func newRoot() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "custody",
		Short: "Custody: a chain of custody for personal data",
		Long: `Custody keeps every event about personal data (collected, shared, processed,
transferred, corrected, erased, consent changed) as an immutable log in
ClickHouse and answers what is held about a person, where it came from, why,
and who received it.

Configuration: --config FILE (YAML), then CUSTODY_* environment variables,
then flags. ` + "`custody config env`" + ` lists the variables.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", os.Getenv("CUSTODY_CONFIG"), "YAML configuration file (env CUSTODY_CONFIG)")
	root.PersistentFlags().StringVar(&g.dataDir, "data-dir", "", "data directory (env CUSTODY_DATA_DIR, default ./data)")
	root.PersistentFlags().BoolVar(&g.dev, "dev", false, "development mode: anonymous ingest, verbose defaults (env CUSTODY_DEV)")
	root.AddCommand(newServe(g), newMigrate(g), newLog(g), newRejected(g), newToken(), newConfigCmd(g), newVersion(),
		newSubject(g), newLineage(g), newDataMap(g), newProjections(g), newRebuild(g), newReport(g), newRequest(g), newDemoCmd(g),
		newKeys(g))
	return root
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "custody", version) },
	}
}

func newConfigCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "env",
		Short: "List the CUSTODY_* environment variables and the settings they override",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			for _, o := range config.Overrides() {
				fmt.Fprintf(cmd.OutOrStdout(), "%-30s %s\n", o.Env, o.Field)
			}
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Load and validate the configuration, reporting every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := g.load(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "configuration ok")
			return nil
		},
	})
	return cmd
}
