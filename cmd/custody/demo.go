package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/examples/profiles"
	"github.com/custodyhq/custody/internal/demo"
	"github.com/custodyhq/custody/internal/progress"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
	"github.com/custodyhq/custody/sdk"
)

// demoOptions are the flags of custody demo.
type demoOptions struct {
	profile   string
	subjects  int
	months    int
	seed      uint64
	end       string
	url       string
	tokenFile string
	out       string
	batch     int
}

func newDemoCmd(g *globalFlags) *cobra.Command {
	o := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Load demo data generated from the five reference customers' privacy policies",
		Long: `Generates realistic, deterministic events from the business profiles built into
the binary — one per reference customer (examples/profiles/*.yaml): sign-ups,
single sign-on, purchases, support chats, cookies and devices, partner and
broker imports, shares and sales, profiling into inferences, identity links
across devices, opt-outs (GPC included) and what stops after them,
corrections, retention and erasure — and sends them to a running Custody
through the Go SDK (POST /v1/events), or writes them as NDJSON.

Each profile's tenant is its name. Person 0 of every profile is a showcase
who does everything the profile describes; their email is printed at the end.
Some profiles declare violations (practices their policy denies), on purpose,
to demonstrate drift.

The same --seed and --months give the same events with the same ids, whatever
--end: loading twice records everything once (the second run's events are
accepted again and dropped by the pipeline, which stores each id once). Times end at --end (default: now).

The token is read from --token-file, else CUSTODY_TOKEN, else the publisher
token the server generated under <data-dir>/tokens; a server in dev mode
(make run) needs none.`,
		Example: `  # load every profile (50 people each, 12 months) into the server of make run
  custody demo

  # one profile, more people, a fixed end so that reruns match byte for byte
  custody demo --profile inkcartridges --subjects 1000 --end 2026-06-01T00:00:00Z

  # write NDJSON instead, then send it with curl (10,000 events per request at most)
  custody demo --profile ipc --out ipc.ndjson
  split -l 5000 ipc.ndjson part- && for f in part-*; do
    curl -sf -X POST http://127.0.0.1:8080/v1/events -H 'Content-Type: application/x-ndjson' --data-binary @"$f" >/dev/null
  done`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "all", "profile names, comma-separated, or all")
	f.IntVar(&o.subjects, "subjects", 50, "people per profile")
	f.IntVar(&o.months, "months", 12, "months of activity, ending at --end")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the data set: the same seed gives the same events")
	f.StringVar(&o.end, "end", "", "end of the simulated window, RFC 3339 (default now)")
	f.StringVar(&o.url, "url", "", "Custody's base URL (default http://<http.addr> of the configuration)")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding a publisher bearer token (default CUSTODY_TOKEN, then <data-dir>/tokens/publisher.token)")
	f.StringVar(&o.out, "out", "", "write NDJSON to this file (- for stdout) instead of sending")
	f.IntVar(&o.batch, "batch", 2000, "events per request")
	return cmd
}

// demoPlan is what the flags resolve to.
type demoPlan struct {
	profiles []demo.Profile
	cfg      demo.Config
}

// plan validates the flags and loads the selected profiles.
func (o demoOptions) plan(now time.Time) (demoPlan, error) {
	var errs []error
	if o.subjects < 1 || o.subjects > demo.MaxSubjects {
		errs = append(errs, fmt.Errorf("--subjects %d: must be between 1 and %d", o.subjects, demo.MaxSubjects))
	}
	if o.months < 1 || o.months > demo.MaxMonths {
		errs = append(errs, fmt.Errorf("--months %d: must be between 1 and %d", o.months, demo.MaxMonths))
	}
	if o.batch < 1 || o.batch > sdk.MaxBatchSize {
		errs = append(errs, fmt.Errorf("--batch %d: must be between 1 and %d", o.batch, sdk.MaxBatchSize))
	}
	end := now.UTC().Truncate(time.Second)
	if o.end != "" {
		t, err := time.Parse(time.RFC3339, o.end)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("--end %q: want an RFC 3339 time such as 2026-06-01T00:00:00Z", o.end))
		case t.After(now.Add(time.Hour)):
			errs = append(errs, fmt.Errorf("--end %s is in the future: Custody refuses events more than 24 h ahead", o.end))
		default:
			end = t.UTC()
		}
	}
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		return demoPlan{}, fmt.Errorf("load taxonomy: %w", err)
	}
	all, err := demo.LoadAll(profiles.FS(), tax)
	if err != nil {
		return demoPlan{}, fmt.Errorf("load demo profiles: %w", err)
	}
	var names []string
	for _, n := range strings.Split(o.profile, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	selected, err := demo.Select(all, names)
	if err != nil {
		errs = append(errs, fmt.Errorf("--profile: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return demoPlan{}, err
	}
	return demoPlan{profiles: selected, cfg: demo.Config{Subjects: o.subjects, Months: o.months, Seed: o.seed, End: end}}, nil
}

func runDemo(cmd *cobra.Command, g *globalFlags, o demoOptions) error {
	ctx := cmd.Context()
	p, err := o.plan(time.Now())
	if err != nil {
		return err
	}
	total, err := demo.Count(ctx, p.profiles, p.cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "generating %s events: %s × %d people × %d months, seed %d, ending %s\n",
		progress.Thousands(total), strings.Join(demo.Names(p.profiles), ", "), p.cfg.Subjects, p.cfg.Months, p.cfg.Seed, p.cfg.End.Format(time.RFC3339))
	if o.out != "" {
		return writeNDJSON(cmd, p, o.out, total)
	}
	base, token, dataDir, err := o.target(g)
	if err != nil {
		return err
	}
	if err := checkReachable(ctx, base); err != nil {
		return err
	}
	sum, err := sendDemo(ctx, cmd.ErrOrStderr(), p, base, token, o.batch, total)
	fmt.Fprintf(cmd.OutOrStdout(), "\ngenerated %s events; sent %s: accepted %s, duplicates %s, rejected %s",
		progress.Thousands(total), progress.Thousands(sum.sent), progress.Thousands(sum.accepted),
		progress.Thousands(sum.duplicates), progress.Thousands(sum.rejected))
	if sum.failed > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), ", not delivered %s", progress.Thousands(sum.failed))
	}
	fmt.Fprintln(cmd.OutOrStdout())
	for _, e := range sum.samples {
		fmt.Fprintln(cmd.ErrOrStderr(), "  "+e)
	}
	if err != nil {
		return err
	}
	if sum.rejected > 0 || sum.failed > 0 {
		return fmt.Errorf("%d events rejected and %d not delivered (first reasons above)", sum.rejected, sum.failed)
	}
	printTryNext(cmd.OutOrStdout(), p, base, dataDir)
	return nil
}

// target resolves the base URL, the token and the data directory.
func (o demoOptions) target(g *globalFlags) (base, token, dataDir string, err error) {
	cfg, err := g.load()
	if err != nil {
		return "", "", "", err
	}
	base = o.url
	if base == "" {
		base = baseURL(cfg.HTTP.Addr)
	}
	u, perr := url.Parse(base)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", "", fmt.Errorf("--url %q: want an http(s) base URL such as http://127.0.0.1:8080", base)
	}
	switch {
	case o.tokenFile != "":
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return "", "", "", fmt.Errorf("--token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
		if token == "" {
			return "", "", "", fmt.Errorf("--token-file %s is empty", o.tokenFile)
		}
	case os.Getenv("CUSTODY_TOKEN") != "":
		token = strings.TrimSpace(os.Getenv("CUSTODY_TOKEN"))
	default:
		// The server generates tokens here when none are configured; in dev
		// mode there are none and none are needed.
		if b, err := os.ReadFile(filepath.Join(cfg.DataDir, "tokens", "publisher.token")); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	return base, token, cfg.DataDir, nil
}

// baseURL turns a listen address into a URL to reach it locally.
func baseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// checkReachable fails early, and says what to do, when nothing answers.
func checkReachable(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Custody at %s (%w): start it with `make run`, or pass --url, or use --out to write NDJSON", base, err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("custody at %s answered %s to /healthz", base, resp.Status)
	}
	return nil
}

// writeNDJSON writes the events, one JSON object per line.
func writeNDJSON(cmd *cobra.Command, p demoPlan, path string, total int64) (err error) {
	var w io.Writer = cmd.OutOrStdout()
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close %s: %w", path, cerr)
			}
		}()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bar := progress.New(cmd.ErrOrStderr(), total, "demo", progress.WithUnit("events"))
	err = demo.Generate(cmd.Context(), p.profiles, p.cfg, func(e *sdk.Event) error {
		b, err := e.MarshalJSON()
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.ID, err)
		}
		if _, err := bw.Write(append(b, '\n')); err != nil {
			return err
		}
		bar.Add(1)
		return nil
	})
	bar.Finish()
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if path != "-" {
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s events to %s; send them with (at most 10,000 events per request):\n"+
			"  split -l 5000 %s part- && for f in part-*; do curl -sf -X POST http://127.0.0.1:8080/v1/events \\\n"+
			"    -H 'Content-Type: application/x-ndjson' --data-binary @\"$f\" >/dev/null; done\n",
			progress.Thousands(total), path, path)
	}
	return nil
}

// demoSummary counts what Custody answered.
type demoSummary struct {
	mu                                   sync.Mutex
	sent, accepted, duplicates, rejected int64
	failed                               int64
	samples                              []string
}

func (s *demoSummary) sample(msg string) {
	if len(s.samples) < 5 {
		s.samples = append(s.samples, msg)
	}
}

// countingTransport passes batches to Custody and counts its verdicts.
type countingTransport struct {
	next *sdk.HTTPTransport
	sum  *demoSummary
	bar  *progress.Reporter
}

func (t *countingTransport) Validate() error { return t.next.Validate() }

func (t *countingTransport) Send(ctx context.Context, events []*sdk.Event) (sdk.Result, error) {
	res, err := t.next.Send(ctx, events)
	if err != nil {
		return res, err
	}
	t.sum.mu.Lock()
	t.sum.sent += int64(len(events))
	t.sum.accepted += int64(res.Accepted)
	t.sum.duplicates += int64(res.Duplicates)
	t.sum.rejected += int64(len(res.Rejected))
	for _, r := range res.Rejected {
		t.sum.sample("rejected " + r.String())
	}
	t.sum.mu.Unlock()
	t.bar.Add(int64(len(events)))
	return res, nil
}

// sendDemo generates the events and emits them through the SDK.
func sendDemo(ctx context.Context, stderr io.Writer, p demoPlan, base, token string, batch int, total int64) (*demoSummary, error) {
	sum := &demoSummary{}
	bar := progress.New(stderr, total, "demo", progress.WithUnit("events"))
	defer bar.Finish()
	exts := map[string]sdk.TaxonomyExtension{}
	for _, pr := range p.profiles {
		if pr.Taxonomy != nil {
			exts[pr.Tenant] = *pr.Taxonomy
		}
	}
	client, err := sdk.New(sdk.Config{
		Source:             "custody-demo",
		BatchSize:          batch,
		BufferSize:         4 * batch,
		FlushInterval:      200 * time.Millisecond,
		TaxonomyExtensions: exts,
		OnError: func(err error) {
			var de *sdk.DeliveryError
			if !errors.As(err, &de) || len(de.Rejected) > 0 {
				return // rejections are counted by the transport
			}
			sum.mu.Lock()
			sum.failed += int64(len(de.IDs))
			sum.sample(de.Error())
			sum.mu.Unlock()
		},
	}, &countingTransport{next: &sdk.HTTPTransport{URL: base, Token: token}, sum: sum, bar: bar})
	if err != nil {
		return sum, err
	}
	chunk := make([]*sdk.Event, 0, batch)
	emit := func() error {
		for {
			err := client.Emit(ctx, chunk...)
			if !errors.Is(err, sdk.ErrBufferFull) {
				chunk = chunk[:0]
				return err
			}
			// Custody is slower than the generator: wait for what is in
			// flight (failures are counted by OnError).
			if ferr := client.Flush(ctx); ctx.Err() != nil {
				return ferr
			}
		}
	}
	genErr := demo.Generate(ctx, p.profiles, p.cfg, func(e *sdk.Event) error {
		if chunk = append(chunk, e); len(chunk) == batch {
			return emit()
		}
		return nil
	})
	if genErr == nil && len(chunk) > 0 {
		genErr = emit()
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if genErr != nil {
		closeCtx, cancel = context.WithTimeout(closeCtx, 5*time.Second) // interrupted: do not linger
		defer cancel()
	}
	cerr := client.Close(closeCtx)
	if genErr != nil {
		return sum, genErr
	}
	if closeCtx.Err() != nil {
		return sum, cerr
	}
	return sum, nil
}

// printTryNext prints queries that answer from what was just loaded: the
// data map of every profile loaded, and the showcase person's record and
// lineage. They open the data directory, so the embedded server must be
// stopped first.
func printTryNext(w io.Writer, p demoPlan, base, dataDir string) {
	var tenants []string
	showcase := map[string]string{}
	fmt.Fprintf(w, "\nShowcase people (each did everything their profile describes):\n")
	for _, pr := range p.profiles {
		tenants = append(tenants, pr.Tenant)
		if email, err := demo.ShowcaseEmail(pr, p.cfg); err == nil {
			showcase[pr.Tenant] = email
			fmt.Fprintf(w, "  %-14s %s\n", pr.Tenant, email)
		}
	}
	first := p.profiles[0].Tenant
	base = strings.TrimSuffix(base, "/")
	fmt.Fprintf(w, "\nLive: curl -s %s/metrics | grep -E '^custody_(ingest|pipeline)_events_total'\n", base)
	fmt.Fprintf(w, "\nTry, while the server runs (GraphQL; with `make run DEV=0` add -H \"Authorization: Bearer $(cat %s/tokens/admin.token)\"):\n", dataDir)
	for _, ex := range demoQueries(tenants, first, showcase[first]) {
		fmt.Fprintf(w, "  # %s\n  curl -s %s/graphql -H 'Content-Type: application/json' -d '%s'\n", ex.what, base, ex.body)
	}
	fmt.Fprintf(w, `
Or from the command line, with the server stopped (they open the data directory %[1]s):
  for t in %[2]s; do custody datamap --tenant $t --data-dir %[1]s; done
  custody subject --tenant %[3]s --identifier email:%[4]s --purpose demo --data-dir %[1]s
  custody lineage --tenant %[3]s --identifier email:%[4]s --element contact.email/email --purpose demo --data-dir %[1]s
`, dataDir, strings.Join(tenants, " "), first, showcase[first])
}

// demoQuery is one GraphQL request the demo suggests.
type demoQuery struct {
	what string
	body string // the JSON request body
}

// demoQueries are the three questions the demo suggests: every loaded
// tenant's data map (one query, an alias per tenant), and the record and
// email lineage of tenant's showcase person.
func demoQueries(tenants []string, tenant, email string) []demoQuery {
	body := func(query string, vars map[string]string) string {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return string(b)
	}
	var maps strings.Builder
	for _, t := range tenants {
		// Tenant names are profile keys (lower-case letters), valid aliases.
		fmt.Fprintf(&maps, `%s: dataMap(tenant: %q) { flow category sourceKind purpose recipientKind recipientRole disclosure people } `, t, t)
	}
	person := map[string]string{"id": "email:" + email, "t": tenant}
	return []demoQuery{
		{"1. each business's data map: what it collects, from whom, why, and to whom it sells, shares or discloses it",
			body("{ "+maps.String()+"}", nil)},
		{"2. everything " + tenant + " holds about its showcase person, across their linked identifiers (recorded in their access log)",
			body(`query($id: String!, $t: String) { subject(identifier: $id, tenant: $t, purpose: "demo") { identifiers { kind } elements { category name status sources { kind name } } disclosures { recipient kind role disclosure categories } consents { choice current since } } }`, person)},
		{"3. where that person's email address went, derived data included",
			body(`query($id: String!, $t: String) { lineage(identifier: $id, tenant: $t, category: "contact.email", name: "email", direction: DOWNSTREAM, purpose: "demo") { isPartial nodes { kind name } } }`, person)},
	}
}
