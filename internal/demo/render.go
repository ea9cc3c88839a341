package demo

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/sdk"
)

// happen renders one occasion as events.
func (pr *person) happen(o *occasion) error {
	if pr.left && o.retention == nil {
		return nil // after deletion or closure only retention deadlines remain
	}
	pr.device = o.device
	r := &render{pr: pr, at: o.at}
	switch {
	case o.retention != nil:
		return pr.retain(r, o.retention)
	case o.correction != nil:
		return pr.correct(r, o.correction)
	case o.consent != nil:
		if err := pr.choose(r, o); err != nil {
			return err
		}
	case o.trigger == TriggerSignup:
		if err := r.send(sdk.Linked(pr.subject(true, false))); err != nil {
			return err
		}
		pr.devices[0].linked = true
	case o.trigger == TriggerLogin && !pr.devices[o.device].linked:
		if err := r.send(sdk.Linked(sdk.Person(append([]sdk.Identifier{pr.accountRef()}, pr.deviceIDs(o.device)...)...))); err != nil {
			return err
		}
		pr.devices[o.device].linked = true
	}
	for _, p := range pr.plan.byTrigger[o.trigger] {
		if err := pr.practise(r, o, p); err != nil {
			return err
		}
	}
	switch o.trigger {
	case TriggerAccountClosed:
		pr.left = true
		for i := range pr.plan.p.Retention {
			if rule := &pr.plan.p.Retention[i]; rule.After == AfterAccountClosed {
				pr.arm(rule, o.at)
			}
		}
	case TriggerDeletionRequest:
		pr.left = true
	}
	return nil
}

// render emits the events of one occasion, a second apart.
type render struct {
	pr *person
	at time.Duration
	k  int
}

func (r *render) send(ev *sdk.Event) error {
	ev.ID = r.pr.eventID()
	ev.Time = r.pr.start.Add(r.at + time.Duration(r.k)*time.Second)
	ev.Tenant = r.pr.plan.p.Tenant
	if ev.Source == "" {
		ev.Source = "web"
	}
	r.k++
	if r.pr.emit == nil {
		return nil
	}
	return r.pr.emit(ev)
}

// from names the emitting service: the system the practice concerns.
func from(system string) sdk.Option { return sdk.WithSource(system) }

func (pr *person) accountRef() sdk.Identifier {
	switch pr.plan.p.Identity.AccountID {
	case "user_id":
		return sdk.UserID(pr.accountID)
	case "account_id":
		return sdk.AccountID(pr.accountID)
	}
	return sdk.CustomerID(pr.accountID)
}

func (pr *person) deviceIDs(k int) []sdk.Identifier {
	d := pr.devices[k]
	ids := []sdk.Identifier{sdk.CookieID(d.cookie), sdk.DeviceID(d.id)}
	if d.adID != "" {
		ids = append(ids, sdk.AdvertisingID(d.adID))
	}
	return ids
}

// subject returns who an event is about: the device of an anonymous
// occasion, the email alone for data matched on it (partners, brokers),
// or the account. At sign-up the account and the first device together.
func (pr *person) subject(signup, emailOnly bool) sdk.Subject {
	switch {
	case signup:
		return sdk.Person(append([]sdk.Identifier{sdk.Email(pr.email), pr.accountRef()}, pr.deviceIDs(0)...)...)
	case emailOnly:
		return sdk.Person(sdk.Email(pr.email))
	}
	return sdk.Person(sdk.Email(pr.email), pr.accountRef())
}

func (pr *person) subjectOf(o *occasion) sdk.Subject {
	if o.anon || !pr.customer {
		return sdk.Person(pr.deviceIDs(o.device)...)
	}
	return pr.subject(false, false)
}

// stopped reports whether an opt-out the person made stops p.
func (pr *person) stopped(p practice) bool {
	for _, c := range p.stops {
		if s := pr.consent[c]; s == event.OptedOut || s == event.Withdrawn {
			return true
		}
	}
	return false
}

// practise renders one practice on an occasion, if it applies.
func (pr *person) practise(r *render, o *occasion, p practice) error {
	w := p.when
	if w.Segment != "" && !pr.segments[w.Segment] {
		return nil
	}
	if !pr.showcase && w.Chance > 0 && pr.rng.Float64() >= w.Chance {
		return nil
	}
	if pr.stopped(p) {
		return nil
	}
	switch p.kind {
	case kindCollection:
		return pr.collect(r, o, p.col)
	case kindActivity:
		return pr.process(r, o, p.act)
	case kindTransfer:
		return pr.transfer(r, o, p.tr)
	case kindDisclosure:
		return pr.disclose(r, o, p.dis)
	case kindErasure:
		return pr.erase(r, o, p.er)
	}
	return nil
}

// withValues returns els as SDK elements, with made-up values when
// values is true.
func (pr *person) withValues(els []Element, values bool) []sdk.Element {
	out := make([]sdk.Element, len(els))
	for i, el := range els {
		out[i] = sdk.Elem(el.Name, el.Category)
		if !values {
			continue
		}
		if v, ok := pr.value(el, pr.versions[elementKey{el.Name, el.Category}]); ok {
			b, err := json.Marshal(v)
			if err == nil {
				out[i].Value = b
			}
		}
	}
	return out
}

// hold records that system now holds the categories of els, starting the
// clock of retention rules counted from collection.
func (pr *person) hold(system string, els []Element, at time.Duration) {
	h := pr.held[system]
	if h == nil {
		h = map[string]bool{}
		pr.held[system] = h
	}
	for _, el := range els {
		if !h[el.Category] {
			h[el.Category] = true
			pr.armCollection(system, el.Category, at)
		}
	}
}

func (pr *person) collect(r *render, o *occasion, c *Collection) error {
	key := c.Source
	if key == "" {
		if key = pr.sources[c.ID]; key == "" {
			key = pick(pr.rng, c.Sources)
			pr.sources[c.ID] = key
		}
	}
	src := pr.plan.sources[key]
	subject := pr.subjectOf(o)
	if !o.anon && pr.customer && external(src.Kind) {
		subject = pr.subject(false, true)
	}
	pr.hold(c.System, c.Elements, r.at)
	return r.send(sdk.Collected(subject, sdk.CollectedData{
		Elements:   pr.withValues(c.Elements, true),
		Origin:     sdk.Origin{Kind: src.Kind, Name: src.Name},
		Purposes:   slices.Clone(c.Purposes),
		System:     c.System,
		LegalBasis: c.LegalBasis,
		Notice:     c.Notice,
	}, from(c.System)))
}

// external reports whether data from a source kind arrives matched on the
// email address rather than on an account the person is logged in to.
func external(kind string) bool {
	switch kind {
	case "consumer", "device", "customer_account", "inferred":
		return false
	}
	return true
}

func (pr *person) process(r *render, o *occasion, a *Activity) error {
	var ad *sdk.AutomatedDecision
	if a.AutomatedDecision != nil {
		ad = &sdk.AutomatedDecision{Significant: a.AutomatedDecision.Significant, Logic: a.AutomatedDecision.Logic}
	}
	pr.hold(a.System, a.Outputs, r.at)
	return r.send(sdk.Processed(pr.subjectOf(o), sdk.ProcessedData{
		Activity:          a.Activity,
		Purposes:          slices.Clone(a.Purposes),
		Inputs:            pr.withValues(a.Inputs, false),
		Outputs:           pr.withValues(a.Outputs, true),
		System:            a.System,
		AutomatedDecision: ad,
	}, from(a.System)))
}

func (pr *person) transfer(r *render, o *occasion, t *Transfer) error {
	pr.hold(t.To, t.Elements, r.at)
	return r.send(sdk.Transferred(pr.subjectOf(o), sdk.TransferredData{
		Elements:   pr.withValues(t.Elements, false),
		FromSystem: t.From,
		ToSystem:   t.To,
		ToCountry:  t.ToCountry,
		Mechanism:  t.Mechanism,
	}, from(t.From)))
}

func (pr *person) disclose(r *render, o *occasion, d *Disclosure) error {
	rc := pr.plan.recipients[d.Recipient]
	return r.send(sdk.Shared(pr.subjectOf(o), sdk.SharedData{
		Recipient:  sdk.Recipient{Name: rc.Name, Kind: rc.Kind, Role: rc.Role, Country: rc.Country},
		Elements:   pr.withValues(d.Elements, false),
		Purposes:   slices.Clone(d.Purposes),
		Disclosure: d.Disclosure,
		System:     d.System,
	}, from(d.System)))
}

// erase renders an erasure practice, naming only what the system holds.
func (pr *person) erase(r *render, o *occasion, e *Erasure) error {
	h := pr.held[e.System]
	data := sdk.ErasedData{Reason: e.Reason, System: e.System}
	switch {
	case e.All:
		if len(h) == 0 {
			return nil
		}
		data.All = true
		clear(h)
	case len(e.Categories) > 0:
		data.Categories = heldOf(h, e.Categories)
		if len(data.Categories) == 0 {
			return nil
		}
		for _, c := range data.Categories {
			delete(h, c)
		}
	default:
		for _, el := range e.Elements {
			if h[el.Category] {
				data.Elements = append(data.Elements, sdk.Elem(el.Name, el.Category))
			}
		}
		if len(data.Elements) == 0 {
			return nil
		}
		for _, el := range data.Elements {
			delete(h, el.Category)
		}
	}
	return r.send(sdk.Erased(pr.subjectOf(o), data, from(e.System)))
}

// heldOf returns the categories of want that h holds, in want's order.
func heldOf(h map[string]bool, want []string) []string {
	var out []string
	for _, c := range want {
		if h[c] {
			out = append(out, c)
		}
	}
	return out
}

// choose renders a consent and, unless ignored, honours it from now on.
func (pr *person) choose(r *render, o *occasion) error {
	cn := o.consent
	for _, choice := range cn.Choices {
		ev := sdk.ConsentChanged(pr.subjectOf(o), sdk.ConsentChangedData{
			Choice: choice, Status: event.ConsentStatus(cn.Status), Mechanism: cn.Mechanism, System: cn.System,
		}, from(orDefault(cn.System, "web")))
		if err := r.send(ev); err != nil {
			return err
		}
		if cn.Ignored {
			continue
		}
		pr.consent[choice] = event.ConsentStatus(cn.Status)
		if cn.Status == string(event.OptedOut) || cn.Status == string(event.Withdrawn) {
			for i := range pr.plan.p.Retention {
				if rule := &pr.plan.p.Retention[i]; rule.After == AfterOptOut && rule.Choice == choice {
					pr.arm(rule, o.at)
				}
			}
		}
	}
	return nil
}

// correct renders a correction if the element is held.
func (pr *person) correct(r *render, c *Correction) error {
	if !pr.customer || !pr.held[c.System][c.Element.Category] {
		return nil
	}
	key := elementKey{c.Element.Name, c.Element.Category}
	pr.versions[key]++
	return r.send(sdk.Corrected(pr.subject(false, false), sdk.CorrectedData{
		Elements: pr.withValues([]Element{c.Element}, true),
		System:   c.System,
	}, from(c.System)))
}

// armCollection starts the clock of retention rules counted from the
// first collection of category into system.
func (pr *person) armCollection(system, category string, at time.Duration) {
	for i := range pr.plan.p.Retention {
		rule := &pr.plan.p.Retention[i]
		if rule.After == AfterCollection && rule.System == system && slices.Contains(rule.Categories, category) {
			pr.arm(rule, at)
		}
	}
}

// arm schedules a rule's deadline unless one is pending.
func (pr *person) arm(rule *RetentionRule, at time.Duration) {
	if pr.armed[rule] {
		return
	}
	deadline := (at + rule.Period.Duration()).Truncate(time.Second)
	if deadline >= pr.span {
		return
	}
	pr.armed[rule] = true
	pr.schedule(&occasion{at: deadline, retention: rule})
}

// retain erases what a rule's period has run out on, unless the person
// opted back in since (rules counted from an opt-out).
func (pr *person) retain(r *render, rule *RetentionRule) error {
	pr.armed[rule] = false
	if rule.After == AfterOptOut {
		if s := pr.consent[rule.Choice]; s != event.OptedOut && s != event.Withdrawn {
			return nil
		}
	}
	h := pr.held[rule.System]
	cats := heldOf(h, rule.Categories)
	if len(cats) == 0 {
		return nil
	}
	for _, c := range cats {
		delete(h, c)
	}
	subject := pr.subject(false, false)
	if !pr.customer {
		subject = sdk.Person(pr.deviceIDs(0)...)
	}
	return r.send(sdk.Erased(subject, sdk.ErasedData{Categories: cats, Reason: "retention", System: rule.System}, from(rule.System)))
}
