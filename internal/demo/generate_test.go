package demo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/examples/profiles"
	"github.com/custodyhq/custody/internal/demo"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/projections"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
	"github.com/custodyhq/custody/sdk"
)

var end = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func loadTaxonomy(t testing.TB) *taxonomy.Taxonomy {
	t.Helper()
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

func loadProfiles(t testing.TB) ([]demo.Profile, *taxonomy.Taxonomy) {
	t.Helper()
	tax := loadTaxonomy(t)
	ps, err := demo.LoadAll(profiles.FS(), tax)
	if err != nil {
		t.Fatal(err)
	}
	return ps, tax
}

// withExtensions returns tax with every profile's taxonomy extension.
func withExtensions(t testing.TB, tax *taxonomy.Taxonomy, ps []demo.Profile) *taxonomy.Taxonomy {
	t.Helper()
	for _, p := range ps {
		if p.Taxonomy == nil {
			continue
		}
		var err error
		if tax, err = tax.WithExtension(p.Tenant, *p.Taxonomy); err != nil {
			t.Fatal(err)
		}
	}
	return tax
}

func TestProfiles_OnePerSeedPolicyAllValid(t *testing.T) {
	ps, _ := loadProfiles(t)
	want := []string{"inkcartridges", "ipc", "ipcon", "ipmart", "iptor"}
	if got := demo.Names(ps); !slices.Equal(got, want) {
		t.Fatalf("profiles = %v, want %v", got, want)
	}
	policies := map[string]bool{}
	for _, p := range ps {
		if !strings.HasPrefix(p.Policy, "seeds/") || policies[p.Policy] {
			t.Errorf("%s: policy %q must name a seed policy not modelled by another profile", p.Tenant, p.Policy)
		}
		policies[p.Policy] = true
		if len(p.DataMap()) == 0 {
			t.Errorf("%s declares no data map rows", p.Tenant)
		}
		if p.Violations.Empty() {
			t.Errorf("%s declares no violations to demonstrate drift with", p.Tenant)
		}
		if len(p.ViolationMap()) == 0 && len(p.Violations.Consents) == 0 {
			t.Errorf("%s: its violations add no data map row and ignore no choice: they cannot be seen", p.Tenant)
		}
	}
}

// fold decodes every event as the server would (failing the test on any
// problem), hashes its identifiers and folds it into a projector.
func fold(t *testing.T, tax *taxonomy.Taxonomy, events []*sdk.Event) *projections.Projector {
	t.Helper()
	h, err := identity.NewHasher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	opts := event.Options{Vocabulary: tax, Now: func() time.Time { return end }}
	p := projections.NewProjector()
	bad := 0
	for _, e := range events {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		ev, errs := event.Decode(raw, opts)
		if len(errs) > 0 {
			if bad++; bad <= 5 {
				t.Errorf("event %s is invalid: %v\n%s", e, errs, raw)
			}
			continue
		}
		refs := make([]identity.Ref, len(ev.Subject.Identifiers))
		for i, id := range ev.Subject.Identifiers {
			if refs[i], err = h.Ref(id); err != nil {
				t.Fatal(err)
			}
		}
		p.Apply(event.Recorded{Event: ev, Identifiers: refs})
	}
	if bad > 0 {
		t.Fatalf("%d of %d events invalid", bad, len(events))
	}
	return p
}

func generate(t *testing.T, ps []demo.Profile, cfg demo.Config) []*sdk.Event {
	t.Helper()
	var out []*sdk.Event
	if err := demo.Generate(context.Background(), ps, cfg, func(e *sdk.Event) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func rowString(r projections.DataMapRow) string {
	if r.Flow == projections.FlowCollected {
		return fmt.Sprintf("collected %s from %s for %s", r.Category, r.SourceKind, r.Purpose)
	}
	return fmt.Sprintf("disclosed %s to %s (%s) as %s for %s", r.Category, r.RecipientKind, r.RecipientRole, r.Disclosure, r.Purpose)
}

func TestGenerate_DataMapMatchesDeclaredPracticesAndViolations(t *testing.T) {
	ps, tax := loadProfiles(t)
	tax = withExtensions(t, tax, ps)
	for _, p := range ps {
		t.Run(p.Tenant, func(t *testing.T) {
			events := generate(t, []demo.Profile{p}, demo.Config{Subjects: 200, Months: 12, Seed: 1, End: end})
			got := map[string]bool{}
			for _, r := range fold(t, tax, events).DataMap(p.Tenant, projections.Window{}) {
				r.People = 0
				got[rowString(r)] = true
			}
			want := map[string]bool{}
			for _, r := range p.DataMap() {
				want[rowString(r)] = true
			}
			violations := p.ViolationMap()
			for _, r := range violations {
				want[rowString(r)] = true
			}
			for r := range want {
				if !got[r] {
					t.Errorf("declared but never generated: %s", r)
				}
			}
			for r := range got {
				if !want[r] {
					t.Errorf("generated but not declared: %s", r)
				}
			}
			t.Logf("%d events, %d data map rows (%d from violations)", len(events), len(got), len(violations))
		})
	}
}

// impliedTypes returns the event types a profile's practices produce.
func impliedTypes(p demo.Profile) []sdk.Type {
	out := []sdk.Type{sdk.TypeSubjectLinked}
	add := func(n int, typ sdk.Type) {
		if n > 0 {
			out = append(out, typ)
		}
	}
	add(len(p.Collections), sdk.TypeCollected)
	add(len(p.Disclosures), sdk.TypeShared)
	add(len(p.Processing), sdk.TypeProcessed)
	add(len(p.Transfers), sdk.TypeTransferred)
	add(len(p.Corrections), sdk.TypeCorrected)
	add(len(p.Erasures)+len(p.Retention), sdk.TypeErased)
	add(len(p.Consents), sdk.TypeConsentChanged)
	return out
}

func TestGenerate_UsesEveryEventType(t *testing.T) {
	ps, _ := loadProfiles(t)
	all := map[sdk.Type]int{}
	for _, p := range ps {
		seen := map[sdk.Type]int{}
		for _, e := range generate(t, []demo.Profile{p}, demo.Config{Subjects: 50, Months: 12, Seed: 3, End: end}) {
			seen[e.Type]++
			all[e.Type]++
		}
		for _, typ := range impliedTypes(p) {
			if seen[typ] == 0 {
				t.Errorf("%s: no %s event in 50 people × 12 months although the profile has practices for it", p.Tenant, typ)
			}
		}
	}
	for _, typ := range event.ExternalTypes() {
		if all[typ] == 0 {
			t.Errorf("no profile generates %s", typ)
		}
	}
	t.Logf("events by type: %v", all)
}

// stream renders events as NDJSON and returns its hash.
func stream(t *testing.T, ps []demo.Profile, cfg demo.Config) ([32]byte, int) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	n := 0
	err := demo.Generate(context.Background(), ps, cfg, func(e *sdk.Event) error { n++; return enc.Encode(e) })
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(buf.Bytes()), n
}

func TestGenerate_DeterministicBySeed(t *testing.T) {
	ps, _ := loadProfiles(t)
	cfg := demo.Config{Subjects: 30, Months: 6, Seed: 42, End: end}
	a, n := stream(t, ps, cfg)
	b, _ := stream(t, ps, cfg)
	if a != b {
		t.Fatal("the same seed gave different streams")
	}
	cfg.Seed = 43
	if c, _ := stream(t, ps, cfg); c == a {
		t.Fatal("a different seed gave the same stream")
	}
	if count, err := demo.Count(context.Background(), ps, demo.Config{Subjects: 30, Months: 6, Seed: 42, End: end}); err != nil || count != int64(n) {
		t.Errorf("Count = %d, %v; Generate emitted %d", count, err, n)
	}
}

func TestGenerate_LaterEndShiftsTimesKeepsIDs(t *testing.T) {
	ps, _ := loadProfiles(t)
	cfg := demo.Config{Subjects: 5, Months: 3, Seed: 9, End: end}
	a := generate(t, ps[:1], cfg)
	cfg.End = end.Add(36*time.Hour + 17*time.Second)
	b := generate(t, ps[:1], cfg)
	if len(a) != len(b) {
		t.Fatalf("%d events, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || b[i].Time.Sub(a[i].Time) != 36*time.Hour+17*time.Second {
			t.Fatalf("event %d: id %s→%s, time %s→%s", i, a[i].ID, b[i].ID, a[i].Time, b[i].Time)
		}
	}
	ids := map[string]bool{}
	for _, e := range a {
		if ids[e.ID.String()] {
			t.Fatalf("id %s generated twice", e.ID)
		}
		ids[e.ID.String()] = true
		if !e.Time.Before(end) || e.Time.Before(end.Add(-3*demo.Month)) {
			t.Fatalf("event at %s is outside the window", e.Time)
		}
	}
}

// stopsDisclosure returns the disclosure type an opt-out of choice stops
// (CCPA 1798.120, 1798.135; targeted advertising is sharing), or "".
func stopsDisclosure(choice string) string {
	switch choice {
	case "sale":
		return "sale"
	case "sharing", "targeted_advertising":
		return "sharing"
	}
	return ""
}

// TestGenerate_OptOutsStopSalesAndSharing checks, per person, that nothing
// is sold after an opt-out of sale, nor shared for cross-context
// advertising after an opt-out of sharing — except where a profile
// declares, as a violation, that it ignores the choice.
func TestGenerate_OptOutsStopSalesAndSharing(t *testing.T) {
	ps, tax := loadProfiles(t)
	tax = withExtensions(t, tax, ps)
	for _, p := range ps {
		t.Run(p.Tenant, func(t *testing.T) {
			ignores := len(p.Violations.Consents) > 0
			if !slices.ContainsFunc(p.Consents, func(c demo.Consent) bool {
				return slices.ContainsFunc(c.Choices, func(ch string) bool { return stopsDisclosure(ch) != "" })
			}) {
				t.Skipf("%s offers no opt-out of sale, sharing or targeted advertising (its policy sells and shares nothing)", p.Tenant)
			}
			proj := fold(t, tax, generate(t, []demo.Profile{p}, demo.Config{Subjects: 200, Months: 12, Seed: 5, End: end}))
			optedOut, after := 0, 0
			for _, person := range proj.Persons(p.Tenant) {
				rec, _ := proj.Record(p.Tenant, person, projections.Window{})
				for _, c := range rec.Consents {
					stops := stopsDisclosure(c.Choice)
					if stops == "" {
						continue
					}
					i := slices.IndexFunc(c.Timeline, func(ch projections.ConsentChange) bool { return ch.Status == event.OptedOut })
					if i < 0 {
						continue
					}
					optedOut++
					for _, d := range rec.Disclosures {
						if d.Disclosure == stops && d.Last.After(c.Timeline[i].Time) {
							after++
							if !ignores {
								t.Errorf("person %s opted out of %s at %s but %s received a %s at %s",
									person, c.Choice, c.Timeline[i].Time, d.Recipient, d.Disclosure, d.Last)
							}
						}
					}
				}
			}
			if optedOut == 0 {
				t.Fatal("nobody opted out: the test proves nothing")
			}
			if ignores && after == 0 {
				t.Error("the profile ignores an opt-out as a violation, but no disclosure follows one")
			}
			t.Logf("%d opt-outs, %d followed by a disclosure", optedOut, after)
		})
	}
}

func TestGenerate_ShowcaseEmailIsAPersonWithData(t *testing.T) {
	ps, tax := loadProfiles(t)
	cfg := demo.Config{Subjects: 3, Months: 12, Seed: 1, End: end}
	p := ps[0]
	email, err := demo.ShowcaseEmail(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := identity.NewHasher(bytes.Repeat([]byte{7}, 32))
	ref, err := h.Ref(sdk.Email(email))
	if err != nil {
		t.Fatalf("showcase email %q: %v", email, err)
	}
	proj := fold(t, withExtensions(t, tax, ps), generate(t, []demo.Profile{p}, cfg))
	person, ok := proj.PersonOf(p.Tenant, ref)
	if !ok {
		t.Fatalf("no person has the showcase email %s", email)
	}
	rec, _ := proj.Record(p.Tenant, person, projections.Window{})
	if len(rec.Categories) < 10 || len(rec.Disclosures) < 3 || len(rec.Identifiers) < 4 {
		t.Errorf("showcase record is thin: %d categories, %d disclosures, %d identifiers", len(rec.Categories), len(rec.Disclosures), len(rec.Identifiers))
	}
	if !strings.HasSuffix(email, ".com") && !strings.HasSuffix(email, ".net") && !strings.HasSuffix(email, ".org") && !strings.HasSuffix(email, ".test") {
		t.Errorf("showcase email %q is not under a reserved domain", email)
	}
}

func TestGenerate_StopsWithEmitErrorAndContext(t *testing.T) {
	ps, _ := loadProfiles(t)
	boom := errors.New("boom")
	n := 0
	err := demo.Generate(context.Background(), ps, demo.Config{Subjects: 10, Months: 12, Seed: 1, End: end}, func(*sdk.Event) error {
		if n++; n == 7 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 7 {
		t.Errorf("err = %v after %d events, want boom after 7", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := demo.Generate(ctx, ps, demo.Config{Subjects: 10, Months: 12, Seed: 1, End: end}, func(*sdk.Event) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  demo.Config
		want []string
	}{
		{"ok", demo.Config{Subjects: 1, Months: 1, End: end}, nil},
		{"everything wrong", demo.Config{Subjects: 0, Months: 121}, []string{"Subjects 0", "Months 121", "End is required"}},
		{"too many subjects", demo.Config{Subjects: demo.MaxSubjects + 1, Months: 12, End: end}, []string{"Subjects"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.want == nil) {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// BenchmarkGenerate reports how fast events are generated (no encoding).
func BenchmarkGenerate(b *testing.B) {
	ps, _ := loadProfiles(b)
	cfg := demo.Config{Subjects: 100, Months: 12, Seed: 1, End: end}
	var n int64
	b.ResetTimer()
	for range b.N {
		c, err := demo.Count(context.Background(), ps, cfg)
		if err != nil {
			b.Fatal(err)
		}
		n += c
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
