package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/audit"
	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/node"
	"github.com/custodyhq/custody/internal/report"
	"github.com/custodyhq/custody/internal/requests"
	"github.com/custodyhq/custody/internal/storage"
)

// cliActor names the person at the terminal in audit entries and request
// history.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// withServices is withStorage plus the audit trail and the request queue.
func (g *globalFlags) withServices(ctx context.Context, f func(config.Config, *storage.Storage, node.Services) error) error {
	return g.withStorage(ctx, func(cfg config.Config, st *storage.Storage) error {
		svc, err := node.NewServices(cfg, st, nil, nil)
		if err != nil {
			return err
		}
		return f(cfg, st, svc)
	})
}

// writeOut writes with render to path, or to stdout when path is "" or "-".
func writeOut(cmd *cobra.Command, path string, render func(io.Writer) error) error {
	if path == "" || path == "-" {
		return render(cmd.OutOrStdout())
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // it holds personal data
	if err != nil {
		return err
	}
	if err := render(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", path)
	return nil
}

func newReport(g *globalFlags) *cobra.Command {
	var tenant, id, format, out, purpose, jurisdiction, requestID string
	var win windowFlags
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write a right-to-know report (HTML, PDF or JSON) for a person, or the one a completed request delivered",
		Long: `Builds the report a consumer receives for a request to know or for access
(Cal. Civ. Code 1798.110/115/130, 11 CCR 7024, GDPR Art. 15): categories
collected under their statutory names, sources, purposes, what was sold or
shared and what was disclosed for a business purpose (apart), named
recipients, the specific pieces of information (never the 7024(d) items,
which are only named), retention, automated decisions, choices.

With --identifier it is a preview for the privacy team over the law's default
window (the 12 months before today) or --from/--to. With --request it is the
report a completed request delivered, built again as of its completion and
checked against the digest recorded then. Every report read is recorded in
the person's access log with --purpose. The file is written 0600.`,
		Example: `  custody report --identifier email:jane@example.com --purpose "ticket 42" --format html --out jane.html
  custody report --request req-0193 --purpose "resend to consumer" --format pdf --out jane.pdf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := report.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			if (id == "") == (requestID == "") {
				return fmt.Errorf("give --identifier (a preview) or --request (a delivered report), one of them")
			}
			if strings.TrimSpace(purpose) == "" {
				return fmt.Errorf("--purpose: say why you are reading this person's data; it goes into their access log")
			}
			w, err := win.window()
			if err != nil {
				return err
			}
			return g.withServices(cmd.Context(), func(_ config.Config, st *storage.Storage, svc node.Services) error {
				ctx := cmd.Context()
				var rep report.Report
				var subject identity.Identifier
				if requestID != "" {
					r, same := requests.Request{}, false
					if rep, r, same, err = svc.Rights.Download(ctx, tenant, requestID); err != nil {
						return err
					}
					// The log keeps the person's identifiers hashed only: the
					// read is recorded under the request, which the person's
					// access log includes.
					subject = requests.RequestIdentifier(r.ID)
					if !same {
						fmt.Fprintln(cmd.ErrOrStderr(), "warning: this report differs from the one delivered: data in it has since been erased, corrected or shredded")
					}
				} else {
					if subject, err = identity.Parse(id); err != nil {
						return fmt.Errorf("--identifier: %w", err)
					}
					if rep, err = svc.Rights.RightToKnow(ctx, tenant, subject, w.From, w.To, requests.Jurisdiction(jurisdiction)); err != nil {
						return err
					}
				}
				if err := svc.Audit.Record(ctx, audit.Access{Tenant: tenant, Identifier: subject, Actor: cliActor(), Role: "admin",
					Operation: "cli.report", Purpose: purpose, Found: true, RequestID: requestID}); err != nil {
					return err
				}
				return writeOut(cmd, out, func(w io.Writer) error { return report.Render(w, rep, f) })
			})
		},
	}
	cmd.Flags().StringVar(&id, "identifier", "", "an identifier of the person: kind:value")
	cmd.Flags().StringVar(&requestID, "request", "", "a completed request to know or for access")
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (default \"default\")")
	cmd.Flags().StringVar(&format, "format", "html", "html, pdf or json")
	cmd.Flags().StringVar(&out, "out", "", "file to write (default stdout)")
	cmd.Flags().StringVar(&purpose, "purpose", "", "why you read this person's data (required; recorded in their access log)")
	cmd.Flags().StringVar(&jurisdiction, "jurisdiction", "ccpa", "law of a preview: ccpa, gdpr, ocpa, mncdpa, …")
	win.add(cmd)
	return cmd
}

func newRequest(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Work the rights-request queue: open, list, show, confirm, verify, extend, complete, deny, appeal, metrics",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "tenant (default \"default\")")
	act := func(note string) requests.Act { return requests.Act{Actor: cliActor(), Note: note} }
	var note string
	cmd.PersistentFlags().StringVar(&note, "note", "", "an internal note kept with the step")
	show := func(cmd *cobra.Command, svc node.Services, r requests.Request) error {
		st, err := svc.Rights.Lifecycle().Status(r, time.Now())
		if err != nil {
			return err
		}
		return writeJSON(cmd.OutOrStdout(), struct {
			Request requests.Request
			Status  requests.Status
			Record  requests.Record
		}{r, st, svc.Rights.Lifecycle().Record(r)})
	}
	run := func(f func(cmd *cobra.Command, args []string, svc node.Services) (requests.Request, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			return g.withServices(cmd.Context(), func(_ config.Config, _ *storage.Storage, svc node.Services) error {
				r, err := f(cmd, args, svc)
				if err != nil {
					return err
				}
				return show(cmd, svc, r)
			})
		}
	}

	var ids []string
	var typ, jur, channel, agent, scope, received, requestID string
	open := &cobra.Command{
		Use:     "open",
		Short:   "Open a request (received now unless --received)",
		Example: `  custody request open --identifier email:jane@example.com --type know --jurisdiction ccpa --channel web_form`,
		Args:    cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, _ []string, svc node.Services) (requests.Request, error) {
			var subject event.Subject
			for _, s := range ids {
				id, err := identity.Parse(s)
				if err != nil {
					return requests.Request{}, fmt.Errorf("--identifier: %w", err)
				}
				subject.Identifiers = append(subject.Identifiers, id)
			}
			at, err := parseTime("--received", received)
			if err != nil {
				return requests.Request{}, err
			}
			return svc.Rights.Open(cmd.Context(), requests.OpenInput{Act: act(note), RequestID: requestID, Tenant: tenant, Subject: subject,
				Type: requests.Type(typ), Jurisdiction: requests.Jurisdiction(jur), Channel: requests.Channel(channel), Agent: agent,
				Scope: requests.Level(scope), ReceivedAt: at})
		}),
	}
	open.Flags().StringSliceVar(&ids, "identifier", nil, "identifiers the request names (repeat; kind:value)")
	open.Flags().StringVar(&typ, "type", "", "know, access, delete, correct, opt_out or limit (required)")
	open.Flags().StringVar(&jur, "jurisdiction", "ccpa", "ccpa, gdpr, ocpa, mncdpa, …")
	open.Flags().StringVar(&channel, "channel", "web_form", "web_form, email, toll_free, phone, mail, in_person, app, opt_out_signal")
	open.Flags().StringVar(&agent, "agent", "", "the authorized agent acting for the person")
	open.Flags().StringVar(&scope, "scope", "", "for know/access: specific_pieces (default) or categories")
	open.Flags().StringVar(&received, "received", "", "when it was received (default now)")
	open.Flags().StringVar(&requestID, "id", "", "request id (default generated)")
	_ = open.MarkFlagRequired("identifier")
	_ = open.MarkFlagRequired("type")

	list := &cobra.Command{
		Use:   "list",
		Short: "List requests with their state and next deadline",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withServices(cmd.Context(), func(_ config.Config, _ *storage.Storage, svc node.Services) error {
				reqs, err := svc.Rights.List(cmd.Context(), tenant)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tTYPE\tLAW\tSTATE\tRECEIVED\tNEXT\tDUE\tOVERDUE")
				for _, r := range reqs {
					st, err := svc.Rights.Lifecycle().Status(r, time.Now())
					if err != nil {
						return err
					}
					next, due := "-", "-"
					if st.Next != nil {
						next, due = string(st.Next.Duty), st.Next.By.String()
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%t\n", r.ID, r.Type, r.Jurisdiction, r.State,
						r.ReceivedAt.UTC().Format(time.DateOnly), next, due, st.Overdue)
				}
				return tw.Flush()
			})
		},
	}
	showCmd := &cobra.Command{
		Use: "show ID", Short: "Show a request, its deadlines and its 11 CCR 7101 record", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string, svc node.Services) (requests.Request, error) {
			return svc.Rights.Get(cmd.Context(), tenant, args[0])
		}),
	}
	confirm := &cobra.Command{
		Use: "confirm ID", Short: "Record that receipt was confirmed to the person", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string, svc node.Services) (requests.Request, error) {
			return svc.Rights.Confirm(cmd.Context(), tenant, args[0], act(note))
		}),
	}
	var method, level, reason, basis, outcome string
	verify := &cobra.Command{
		Use: "verify ID", Short: "Record identity verification (method and level reached)", Args: cobra.ExactArgs(1),
		Example: `  custody request verify req-1 --method matching_data_points --level specific_pieces`,
		RunE: run(func(cmd *cobra.Command, args []string, svc node.Services) (requests.Request, error) {
			return svc.Rights.Verify(cmd.Context(), tenant, args[0], requests.VerifyInput{Act: act(note), Method: method, Level: requests.Level(level)})
		}),
	}
	verify.Flags().StringVar(&method, "method", "", "account_login, matching_data_points, signed_declaration, identity_document, …")
	verify.Flags().StringVar(&level, "level", "", "specific_pieces, categories, or none (failed)")
	extend := &cobra.Command{
		Use: "extend ID", Short: "Extend the response deadline once, with the reason told to the person", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string, svc node.Services) (requests.Request, error) {
			return svc.Rights.Extend(cmd.Context(), tenant, args[0], requests.ExtendInput{Act: act(note), Reason: reason})
		}),
	}
	extend.Flags().StringVar(&reason, "reason", "", "why more time is needed (required)")
	complete := &cobra.Command{
		Use: "complete ID", Short: "Record the answer; for know/access the report is built and its digest kept", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string, svc node.Services) (requests.Request, error) {
			return svc.Rights.Complete(cmd.Context(), tenant, args[0], requests.CompleteInput{Act: act(note),
				Outcome: requests.Outcome(outcome), Basis: requests.Basis(basis), Reason: reason})
		}),
	}
	complete.Flags().StringVar(&outcome, "outcome", string(requests.OutcomeComplied), "complied or complied_in_part")
	complete.Flags().StringVar(&basis, "basis", "", "for complied_in_part: the basis of the part denied")
	complete.Flags().StringVar(&reason, "reason", "", "explanation given to the person")
	deny := &cobra.Command{
		Use: "deny ID", Short: "Deny the request, with its basis", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string, svc node.Services) (requests.Request, error) {
			return svc.Rights.Deny(cmd.Context(), tenant, args[0], requests.DenyInput{Act: act(note), Basis: requests.Basis(basis), Reason: reason})
		}),
	}
	deny.Flags().StringVar(&basis, "basis", "", "unverifiable, agent_unauthorized, exemption, not_covered, excessive, repeated, other")
	deny.Flags().StringVar(&reason, "reason", "", "explanation given to the person (required with other)")
	appeal := &cobra.Command{
		Use: "appeal ID", Short: "Record the person's appeal of the answer", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, args []string, svc node.Services) (requests.Request, error) {
			return svc.Rights.Appeal(cmd.Context(), tenant, args[0], requests.AppealInput{Act: act(note), Reason: reason})
		}),
	}
	appeal.Flags().StringVar(&reason, "reason", "", "the person's reason")
	var year int
	metrics := &cobra.Command{
		Use: "metrics", Short: "Print a year's 11 CCR 7102 metrics per request type", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withServices(cmd.Context(), func(_ config.Config, _ *storage.Storage, svc node.Services) error {
				m, err := svc.Rights.Metrics(cmd.Context(), tenant, year)
				if err != nil {
					return err
				}
				return writeJSON(cmd.OutOrStdout(), m)
			})
		},
	}
	metrics.Flags().IntVar(&year, "year", time.Now().Year()-1, "calendar year")
	cmd.AddCommand(open, list, showCmd, confirm, verify, extend, complete, deny, appeal, metrics)
	return cmd
}
