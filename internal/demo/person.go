package demo

import (
	"container/heap"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/sdk"
)

// device is one browser or phone of a person.
type device struct {
	cookie, id, adID string
	mobile           bool
	since            time.Duration // when the person starts using it
	linked           bool          // its ids have been linked to the account
}

// occasion is something that happens to a person at a time: a trigger, a
// consent, a correction or a retention deadline.
type occasion struct {
	at         time.Duration // since the window's start
	order      int           // ties: in the order scheduled
	trigger    string
	device     int
	anon       bool // identified by the device only
	consent    *Consent
	correction *Correction
	retention  *RetentionRule
}

type agenda []*occasion

func (a agenda) Len() int { return len(a) }
func (a agenda) Less(i, j int) bool {
	if a[i].at != a[j].at {
		return a[i].at < a[j].at
	}
	return a[i].order < a[j].order
}
func (a agenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *agenda) Push(x any)   { *a = append(*a, x.(*occasion)) }
func (a *agenda) Pop() any {
	old := *a
	o := old[len(old)-1]
	*a = old[:len(old)-1]
	return o
}

// person is one simulated person dealing with one business.
type person struct {
	plan *plan
	cfg  Config
	n    int
	rng  *rand.Rand
	emit func(*sdk.Event) error
	seq  int

	start    time.Time     // the window's start
	span     time.Duration // the window's length
	showcase bool

	pool                      pool
	site                      string
	first, last, email, phone string
	accountID                 string
	birth, home, employer     int
	devices                   []device
	device                    int // the device of the occasion being rendered
	customer                  bool
	segments                  map[string]bool
	arrive, signup, activeEnd time.Duration
	ending                    string                         // account_closed, deletion_request or ""
	sources                   map[string]string              // collection id -> chosen source key
	versions                  map[elementKey]int             // corrections so far
	consent                   map[string]event.ConsentStatus // honoured choices
	held                      map[string]map[string]bool     // system -> categories held
	armed                     map[*RetentionRule]bool        // retention deadlines pending
	agenda                    agenda
	scheduled                 int
	left                      bool
}

func newPerson(pl *plan, cfg Config, n int, emit func(*sdk.Event) error) *person {
	s1, s2 := personSeed(cfg.Seed, cfg.Months, pl.p.Tenant, n)
	rng := rand.New(rand.NewPCG(s1, s2))
	span := time.Duration(cfg.Months) * Month
	pr := &person{
		plan: pl, cfg: cfg, n: n, rng: rng, emit: emit,
		start: cfg.End.UTC().Add(-span), span: span, showcase: n == 0,
		pool: pl.pool, site: pl.p.Identity.Site,
		sources: map[string]string{}, versions: map[elementKey]int{}, consent: map[string]event.ConsentStatus{},
		held: map[string]map[string]bool{}, armed: map[*RetentionRule]bool{}, segments: map[string]bool{},
	}
	pr.first, pr.last = pick(rng, pr.pool.first), pick(rng, pr.pool.last)
	pr.birth, pr.home, pr.employer = rng.IntN(10_000), rng.IntN(1000), rng.IntN(1000)
	// unique within a data set: n shifted by the seed, so that two data
	// sets loaded into one tenant do not share identifiers.
	uniq := uint64(n) + cfg.Seed*1_000_003%7_000_000
	local := strings.ToLower(strings.ReplaceAll(pr.first+"."+pr.last, " ", ""))
	pr.email = local + "." + strconv.FormatUint(uniq, 36) + "@" + pick(rng, emailDomains())
	pr.phone = phoneNumber(pl.p.Identity.Phone, uniq)
	pr.accountID = pl.p.Identity.Prefix + strconv.FormatUint(1_000_000+uniq, 10)
	return pr
}

// phoneNumber returns a unique number in the 555 range (fictional in
// North America; an unassigned-looking block elsewhere).
func phoneNumber(code string, uniq uint64) string {
	u := uniq % 7_000_000
	if code == "+1" {
		return code + strconv.FormatUint(201+u/10_000, 10) + "555" + pad(u%10_000, 4)
	}
	return code + strconv.FormatUint(3+u/100_000%6, 10) + "555" + pad(u%100_000, 5)
}

func pad(v uint64, width int) string {
	s := strconv.FormatUint(v, 10)
	return strings.Repeat("0", max(0, width-len(s))) + s
}

// live plans the person's life and renders it as events.
func (pr *person) live() error {
	pr.decide()
	for pr.agenda.Len() > 0 {
		o := heap.Pop(&pr.agenda).(*occasion)
		if o.at >= pr.span {
			continue
		}
		if err := pr.happen(o); err != nil {
			return err
		}
	}
	return nil
}

func (pr *person) schedule(o *occasion) {
	pr.scheduled++
	o.order = pr.scheduled
	heap.Push(&pr.agenda, o)
}

// decide decides who the person is and what will happen to them.
func (pr *person) decide() {
	rng, lc, sc := pr.rng, pr.plan.p.Lifecycle, pr.showcase
	if sc {
		pr.arrive = time.Hour
	} else {
		pr.arrive = between(rng, 0, pr.span*9/10)
	}
	pr.customer = sc || rng.Float64() < lc.Signup
	for _, s := range pr.plan.p.Segments {
		pr.segments[s.Key] = sc || rng.Float64() < s.Share
	}
	pr.signup = pr.arrive + between(rng, time.Hour, 72*time.Hour)
	if sc {
		pr.signup = pr.arrive + 2*time.Hour
	}
	pr.activeEnd = pr.span
	if pr.customer && !sc {
		switch r := rng.Float64(); {
		case r < lc.DeletionRequest:
			pr.ending = TriggerDeletionRequest
		case r < lc.DeletionRequest+lc.AccountClosure:
			pr.ending = TriggerAccountClosed
		}
		if pr.ending != "" {
			at := between(rng, pr.signup+14*24*time.Hour, pr.span)
			if at < pr.span && at > pr.signup {
				pr.activeEnd = at
			} else {
				pr.ending = ""
			}
		}
	}
	pr.makeDevices()
	pr.planVisitsAndLogins()
	pr.planInteractions()
	pr.planConsents()
	pr.planCorrections()
	if pr.ending != "" {
		pr.schedule(&occasion{at: pr.activeEnd, trigger: pr.ending})
	}
}

func (pr *person) makeDevices() {
	rng, lc := pr.rng, pr.plan.p.Lifecycle
	n := 1 + rng.IntN(max(1, lc.MaxDevices))
	if pr.showcase {
		n = max(1, lc.MaxDevices)
	}
	for k := range n {
		d := device{cookie: "ck_" + hexString(rng, 24), id: "dv-" + randomUUID(rng), mobile: rng.Float64() < lc.Mobile}
		if pr.showcase {
			d.mobile = k == 1 && lc.Mobile > 0
		}
		if d.mobile {
			d.adID = randomUUID(rng)
		}
		if k > 0 {
			from := pr.arrive
			if pr.customer {
				from = pr.signup
			}
			d.since = between(rng, from+time.Hour, pr.activeEnd)
			if pr.showcase {
				d.since = from + time.Duration(k)*24*time.Hour
			}
		} else {
			d.since = pr.arrive
		}
		pr.devices = append(pr.devices, d)
	}
}

// deviceAt picks a device the person uses at time at.
func (pr *person) deviceAt(at time.Duration) int {
	var usable []int
	for i, d := range pr.devices {
		if d.since <= at {
			usable = append(usable, i)
		}
	}
	if len(usable) == 0 {
		return 0
	}
	return pick(pr.rng, usable)
}

// poisson returns the times of a Poisson process with rate per Month in
// [from, to).
func (pr *person) poisson(from, to time.Duration, perMonth float64) []time.Duration {
	if perMonth <= 0 {
		return nil
	}
	var out []time.Duration
	for t := from + exp(pr.rng, perMonth, pr.span); t < to; t += exp(pr.rng, perMonth, pr.span) {
		out = append(out, t.Truncate(time.Second))
	}
	return out
}

func (pr *person) planVisitsAndLogins() {
	lc := pr.plan.p.Lifecycle
	// The first visit is how they found the business.
	visits := append([]time.Duration{pr.arrive}, pr.poisson(pr.arrive, pr.activeEnd, lc.VisitsPerMonth)...)
	for _, at := range visits {
		pr.schedule(&occasion{at: at, trigger: TriggerVisit, device: pr.deviceAt(at), anon: true})
	}
	if !pr.customer {
		return
	}
	pr.schedule(&occasion{at: pr.signup, trigger: TriggerSignup, device: 0})
	for _, at := range pr.poisson(pr.signup, pr.activeEnd, lc.LoginsPerMonth) {
		pr.schedule(&occasion{at: at, trigger: TriggerLogin, device: pr.deviceAt(at)})
	}
	for k, d := range pr.devices {
		if k > 0 && d.since < pr.activeEnd {
			pr.schedule(&occasion{at: d.since, trigger: TriggerLogin, device: k}) // first login on a new device
		}
	}
	for at := pr.signup + Month; at < pr.activeEnd; at += Month {
		pr.schedule(&occasion{at: at, trigger: TriggerMonthly})
	}
}

func (pr *person) planInteractions() {
	for _, in := range pr.plan.p.Interactions {
		everyone := in.Audience == AudienceEveryone
		if (!everyone && !pr.customer) || (in.Segment != "" && !pr.segments[in.Segment]) {
			continue
		}
		from := pr.signup
		if everyone {
			from = pr.arrive
		}
		times := pr.poisson(from, pr.activeEnd, in.PerMonth)
		if len(times) == 0 && pr.showcase {
			times = []time.Duration{between(pr.rng, from+time.Hour, from+(pr.activeEnd-from)/2)}
		}
		if in.Once && len(times) > 1 {
			times = times[:1]
		}
		for _, at := range times {
			o := &occasion{at: at, trigger: in.Key}
			if everyone {
				o.device, o.anon = pr.deviceAt(at), true
			}
			pr.schedule(o)
		}
	}
}

// planConsents places each choice the person makes on one occasion of its
// triggers. The showcase grants at 40% of the window and opts out at 85%,
// after everything else has happened at least once.
func (pr *person) planConsents() {
	for _, cn := range pr.plan.consents {
		if cn.Segment != "" && !pr.segments[cn.Segment] {
			continue
		}
		if !pr.showcase && pr.rng.Float64() >= cn.Chance {
			continue
		}
		var candidates []*occasion
		for _, o := range pr.agenda {
			if slices.Contains(cn.On, o.trigger) && o.at < pr.activeEnd {
				candidates = append(candidates, o)
			}
		}
		if len(candidates) == 0 {
			continue
		}
		slices.SortFunc(candidates, func(a, b *occasion) int { return int(a.order - b.order) })
		var chosen *occasion
		if pr.showcase {
			target := pr.span * 40 / 100
			if cn.Status == string(event.OptedOut) || cn.Status == string(event.Withdrawn) {
				target = pr.span * 85 / 100
			}
			for _, o := range candidates {
				if chosen == nil || abs(o.at-target) < abs(chosen.at-target) {
					chosen = o
				}
			}
		} else {
			chosen = pick(pr.rng, candidates)
		}
		pr.schedule(&occasion{at: chosen.at + time.Minute, trigger: cn.ID, device: chosen.device, anon: chosen.anon, consent: cn})
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (pr *person) planCorrections() {
	cs := pr.plan.p.Corrections
	if !pr.customer || len(cs) == 0 {
		return
	}
	if pr.showcase {
		for i := range cs {
			pr.schedule(&occasion{at: pr.span*60/100 + time.Duration(i)*time.Hour, correction: &cs[i]})
		}
		return
	}
	if pr.rng.Float64() < pr.plan.p.Lifecycle.Correction {
		pr.schedule(&occasion{at: between(pr.rng, pr.signup+24*time.Hour, pr.activeEnd), correction: &cs[pr.rng.IntN(len(cs))]})
	}
}
