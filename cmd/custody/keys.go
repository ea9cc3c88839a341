package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/eventlog"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/progress"
	"github.com/custodyhq/custody/internal/storage"
)

// previousKeySettings names where previous master keys are configured, for
// messages telling the operator what to change.
const previousKeySettings = "CUSTODY_PREVIOUS_MASTER_KEYS (or security.previous_master_key_files)"

func newKeys(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Complete a master-key rotation: see which master keys wrap the stored data keys, re-wrap them under the active one",
		Long: `Every person's data key is stored wrapped (encrypted) under a master key.
To rotate the master key: set the new key as CUSTODY_MASTER_KEY (or
security.master_key_file), keep the old one in CUSTODY_PREVIOUS_MASTER_KEYS
(or security.previous_master_key_files), restart every process, then:

  custody keys status     which master keys wrap how many data keys
  custody keys rewrap     re-wrap every data key under the active master key
  custody keys status     the old key can now be removed, then destroyed

Only wrappings change: no value is decrypted and no key material is printed.
With the embedded engine, stop the server first (one process owns the data
directory).

Custody records the fingerprints of its identifier key and active master
key in storage and refuses to start with a missing or different key (a
new key is generated only into an empty installation). custody keys
fingerprint prints the fingerprints of the configured keys or of key
files, to find the backup the refusal asks for.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newKeysStatus(g), newKeysRewrap(g), newKeysFingerprint(g))
	return cmd
}

// withRotator opens storage as every command does and runs f with a
// Rotator on its keyring (the configured master keys) and a key store on
// its tables (the Distributed ones in sharded mode).
func (g *globalFlags) withRotator(ctx context.Context, f func(*keyring.Rotator) error) error {
	return g.withStorage(ctx, func(_ config.Config, st *storage.Storage) error {
		rot, err := keyring.NewRotator(st.Keyring, eventlog.NewKeyStoreWithConfig(st.Conn, eventlog.Config{Tables: st.Tables}))
		if err != nil {
			return err
		}
		return f(rot)
	})
}

func newKeysStatus(g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show, per master key, how many data keys it wraps and whether it can be removed from the configuration",
		Long: `For every master key configured or found in the store: its role (active,
previous, or not configured), how many live data keys it wraps and for how
many people, how many destroyed (crypto-shredded) keys it wrapped, and
whether it is safe to remove from the configuration: a previous key is
once it wraps no live data key. Counts cover every tenant, because master
keys are configured for all of them.

Exits 0 whatever the state; --json prints the same as JSON, with
"complete": true once every live data key is under the active master key.`,
		Example: `  custody keys status
  custody keys status --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withRotator(cmd.Context(), func(rot *keyring.Rotator) error {
				s, err := rot.Status(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), s)
				}
				return printKeyStatus(cmd.OutOrStdout(), s)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// printKeyStatus prints the table, then what to do next.
func printKeyStatus(w io.Writer, s keyring.RotationStatus) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MASTER KEY\tROLE\tLIVE KEYS\tSUBJECTS\tDESTROYED\tSAFE TO REMOVE")
	for _, m := range s.MasterKeys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Role, progress.Thousands(int64(m.LiveKeys)),
			progress.Thousands(int64(m.Subjects)), progress.Thousands(int64(m.DestroyedKeys)), safeToRemove(m))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	printNextSteps(w, s)
	return nil
}

func safeToRemove(m keyring.MasterKeyStatus) string {
	switch {
	case m.Role == keyring.RoleActive:
		return "no (active)"
	case m.Retirable:
		return "yes"
	case m.Role == keyring.RoleUnconfigured:
		return "no (not configured: its keys are unreadable)"
	}
	return "no (run custody keys rewrap)"
}

// printNextSteps says what the status means for the operator.
func printNextSteps(w io.Writer, s keyring.RotationStatus) {
	for _, m := range s.MasterKeys {
		if m.Role == keyring.RoleUnconfigured && m.LiveKeys > 0 {
			fmt.Fprintf(w, "%s data keys are wrapped under %s, which is not configured: their values cannot be read. "+
				"Configure that master key in %s, then run custody keys rewrap.\n", progress.Thousands(int64(m.LiveKeys)), m.ID, previousKeySettings)
		}
	}
	if s.Complete {
		fmt.Fprintf(w, "Rotation complete: every live data key is under the active master key %s.\n", s.Active)
	} else {
		fmt.Fprintf(w, "%s live data keys are not under the active master key %s: run custody keys rewrap.\n",
			progress.Thousands(int64(s.PendingKeys)), s.Active)
	}
	for _, id := range s.Retirable() {
		fmt.Fprintf(w, "%s wraps no live data key: remove it from %s, restart, then destroy it.\n", id, previousKeySettings)
	}
}

// rewrapFlags are keys rewrap's flags.
type rewrapFlags struct {
	batch  int
	dryRun bool
	tenant string
	asJSON bool
}

// options validates the flags, naming the one at fault.
func (f rewrapFlags) options() (keyring.RewrapOptions, error) {
	if f.batch < 1 || f.batch > keyring.MaxRewrapBatch {
		return keyring.RewrapOptions{}, fmt.Errorf("--batch %d: must be between 1 and %d", f.batch, keyring.MaxRewrapBatch)
	}
	return keyring.RewrapOptions{Batch: f.batch, DryRun: f.dryRun, Tenant: f.tenant}, nil
}

// rewrapReport is keys rewrap --json: the result, its time in seconds and,
// after a real run, the status it leaves.
type rewrapReport struct {
	keyring.RewrapResult
	Seconds       float64                 `json:"seconds"`
	KeysPerSecond float64                 `json:"keysPerSecond"`
	Status        *keyring.RotationStatus `json:"status,omitempty"`
}

func newKeysRewrap(g *globalFlags) *cobra.Command {
	var f rewrapFlags
	cmd := &cobra.Command{
		Use:   "rewrap",
		Short: "Re-wrap every live data key that is not under the active master key with the active one",
		Long: `Re-wraps, in batches, every live data key that is wrapped under a previous
master key with the active master key, with a progress bar on stderr, then
prints a summary (keys re-wrapped, people, time, rate) and what the rotation
status now allows.

It is idempotent and resumable: keys already under the active master key
are skipped, so a run that was interrupted (Ctrl-C, killed, a failed write)
is completed by running it again. It is safe beside running writers and
erasures: a data key crypto-shredded during the run stays shredded, and no
key material of a shredded person is written back. Keys created meanwhile
by a process still running with the old active master key are picked up by
the next run; keys status tells.

Keys under a master key that is not configured cannot be re-wrapped: they
are counted, named (tenant and key id, never key material), and the command
exits non-zero after re-wrapping the others.

--dry-run re-wraps in memory only, proving every key can be re-wrapped, and
writes nothing.`,
		Example: `  custody keys rewrap --dry-run
  custody keys rewrap
  custody keys rewrap --tenant inkcartridges --batch 5000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options()
			if err != nil {
				return err
			}
			return g.withRotator(cmd.Context(), func(rot *keyring.Rotator) error {
				return runRewrap(cmd, rot, opts, f.asJSON)
			})
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.batch, "batch", keyring.DefaultRewrapBatch, fmt.Sprintf("data keys read, re-wrapped and written per round trip (1 to %d)", keyring.MaxRewrapBatch))
	fl.BoolVar(&f.dryRun, "dry-run", false, "re-wrap in memory only and report; write nothing")
	fl.StringVar(&f.tenant, "tenant", "", "re-wrap one tenant's data keys only (default every tenant)")
	fl.BoolVar(&f.asJSON, "json", false, "print the summary as JSON")
	return cmd
}

func runRewrap(cmd *cobra.Command, rot *keyring.Rotator, opts keyring.RewrapOptions, asJSON bool) error {
	label := "rewrap"
	if opts.DryRun {
		label = "rewrap (dry run)"
	}
	bar := progress.New(cmd.ErrOrStderr(), 0, label, progress.WithUnit("keys"))
	opts.Progress = func(p keyring.RewrapResult) {
		bar.SetTotal(int64(p.Pending))
		bar.Add(int64(p.Scanned) - bar.Count())
	}
	res, err := rot.Rewrap(cmd.Context(), opts)
	bar.Finish()

	var status *keyring.RotationStatus
	if !opts.DryRun && cmd.Context().Err() == nil {
		// What the run leaves, for every tenant: it decides whether a
		// previous master key can go.
		s, serr := rot.Status(cmd.Context())
		if serr != nil {
			return errors.Join(err, serr)
		}
		status = &s
	}
	out := cmd.OutOrStdout()
	if asJSON {
		if jerr := writeJSON(out, rewrapReport{RewrapResult: res, Seconds: res.Duration.Seconds(), KeysPerSecond: res.Rate(), Status: status}); jerr != nil {
			return errors.Join(err, jerr)
		}
		return err
	}
	printRewrapSummary(out, res, opts.Tenant)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(out, "Interrupted: run custody keys rewrap again to continue; keys already re-wrapped are skipped.")
	}
	if status != nil {
		printNextSteps(out, *status)
	}
	return err
}

func printRewrapSummary(w io.Writer, r keyring.RewrapResult, tenant string) {
	if r.Scanned == 0 {
		of := ""
		if tenant != "" {
			of = " of tenant " + tenant
		}
		fmt.Fprintf(w, "Nothing to re-wrap: every live data key%s is already under %s.\n", of, r.Active)
		return
	}
	verb := "Re-wrapped"
	if r.DryRun {
		verb = "Dry run: would re-wrap"
	}
	fmt.Fprintf(w, "%s %s data keys of %s subjects under %s in %s (%s keys/s).\n", verb, progress.Thousands(int64(r.Rewrapped)),
		progress.Thousands(int64(r.Subjects)), r.Active, progress.Duration(r.Duration), progress.Thousands(int64(r.Rate())))
	if r.DryRun {
		fmt.Fprintln(w, "Nothing was written.")
	}
	if r.ShreddedMeanwhile > 0 {
		fmt.Fprintf(w, "%s data keys were shredded during the run: they stay shredded.\n", progress.Thousands(int64(r.ShreddedMeanwhile)))
	}
	if r.Failed > 0 {
		fmt.Fprintf(w, "%s data keys could not be re-wrapped", progress.Thousands(int64(r.Failed)))
		if len(r.Failures) < r.Failed {
			fmt.Fprintf(w, " (the first %d)", len(r.Failures))
		}
		fmt.Fprintln(w, ":")
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  tenant %s, key %s, under %s: %s\n", f.Tenant, f.KeyID, f.MasterKeyID, f.Reason)
		}
	}
}

func newKeysFingerprint(g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fingerprint [FILE...]",
		Short: "Print the fingerprints of the configured keys, or of key files, without printing the keys",
		Long: `Prints the fingerprint (kfp1-…) of each key file given, or, without files,
of the keys the configuration names (identifier key, master key, previous
master keys; from CUSTODY_* variables or files), and each master key's id
(mk-…). A fingerprint reveals nothing of its key.

Custody records the fingerprints of the keys the stored data was written
under, and refuses to start with a missing or different key, naming the
fingerprint it expects: compare it with the files of your backup to find
the key to restore. Opens no storage and creates nothing.`,
		Example: `  custody keys fingerprint
  custody keys fingerprint /backup/keys/identifier.key /backup/keys/master.key`,
		RunE: func(cmd *cobra.Command, files []string) error {
			var keys []storage.KeyFingerprint
			for _, f := range files {
				raw, err := keyring.ReadSecretFile(f)
				if err != nil {
					return err
				}
				mk, err := keyring.NewMasterKey(raw)
				keys = append(keys, storage.KeyFingerprint{Key: "file", Source: f, Fingerprint: keyring.Fingerprint(raw), MasterKeyID: mk.ID})
				clear(raw)
				if err != nil {
					return err
				}
			}
			if len(files) == 0 {
				cfg, err := g.load()
				if err != nil {
					return err
				}
				if keys, err = storage.ConfiguredKeys(cfg); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), keys)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tSOURCE\tFINGERPRINT\tAS MASTER KEY")
			for _, k := range keys {
				fp := k.Fingerprint
				if fp == "" {
					fp = "(file does not exist)"
				}
				id := k.MasterKeyID
				if k.Key == "identifier" || id == "" {
					id = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Key, k.Source, fp, id)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}
