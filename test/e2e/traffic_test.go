package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/identity"
)

// Traffic as services send it, for the benchmarks of traffic_bench_test.go:
// many people, a few identifiers each, the event types a shop emits most
// (collections, disclosures, consent changes), in requests of a few
// events from many clients at once.

// postBody is one NDJSON request body and the number of events in it.
type postBody struct {
	body   []byte
	events int
}

// trafficPerson is the identifiers the generator gives person p: an email
// and a customer id, and a phone for every third person. Every event names
// the email, so a person is one identity from their first event.
func trafficPerson(p int) []identity.Identifier {
	ids := []identity.Identifier{
		{Kind: identity.Email, Value: fmt.Sprintf("p%d@example.com", p)},
		{Kind: identity.CustomerID, Value: fmt.Sprintf("C-%d", p)},
	}
	if p%3 == 0 {
		ids = append(ids, identity.Identifier{Kind: identity.Phone, Value: fmt.Sprintf("+1 415 %07d", p%10_000_000)})
	}
	return ids
}

// appendTrafficEvent appends the j-th event about person p (with a UUIDv7
// id, as the SDK makes) at `at` as one NDJSON line. Of every 20 events of
// a person, 12 are data.collected (the email and sometimes the phone with
// their values, all of the person's identifiers), 5 data.shared (the
// email only) and 3 consent.changed (email and customer id); people are
// at different points of that cycle, so a request holds a mix.
func appendTrafficEvent(buf []byte, tenant string, p, j int, at time.Time) []byte {
	id := uuid.Must(uuid.NewV7())
	ids := trafficPerson(p)
	ident := func(ids []identity.Identifier) string {
		parts := make([]string, len(ids))
		for i, x := range ids {
			parts[i] = fmt.Sprintf(`{"kind":%q,"value":%q}`, x.Kind, x.Value)
		}
		return `{"identifiers":[` + strings.Join(parts, ",") + `]}`
	}
	var typ, source, subject, data string
	switch k := (p + j) % 20; {
	case k < 12:
		typ, source, subject = "data.collected", "checkout", ident(ids)
		elements := fmt.Sprintf(`{"name":"email","category":"contact.email","value":%q},{"name":"ip","category":"online.ip_address"}`, ids[0].Value)
		if len(ids) > 2 {
			elements += fmt.Sprintf(`,{"name":"phone","category":"contact.phone","value":%q}`, ids[2].Value)
		}
		data = `{"elements":[` + elements + `],"origin":{"kind":"consumer","name":"checkout"},"purposes":["order_fulfilment"],"system":"orders-db"}`
	case k < 17:
		typ, source, subject = "data.shared", "ads-service", ident(ids[:1])
		data = `{"recipient":{"name":"AdNetwork Inc","kind":"advertising_network","role":"third_party","country":"US"},` +
			`"elements":[{"name":"email","category":"contact.email"}],"purposes":["targeted_advertising"],"disclosure":"sharing","system":"crm"}`
	default:
		typ, source, subject = "consent.changed", "preference-center", ident(ids[:2])
		status := "opted_out"
		if (p+j)%40 >= 20 {
			status = "opted_in"
		}
		data = `{"choice":"marketing_email","status":"` + status + `","mechanism":"form","system":"crm"}`
	}
	buf = fmt.Appendf(buf, `{"id":%q,"type":%q,"source":%q,"time":%q,"tenant":%q,"subject":%s,"data":%s}`,
		id.String(), typ, source, at.UTC().Format(time.RFC3339Nano), tenant, subject, data)
	return append(buf, '\n')
}

// trafficRequests renders n events for tenant as NDJSON requests of per
// events, about people first, first+1, … first+people-1 in turn (so a
// request of a few events names a few different people, as requests from
// many services do), the i-th event at start + i×step.
func trafficRequests(tenant string, n, per, first, people int, start time.Time, step time.Duration) []postBody {
	reqs := make([]postBody, 0, (n+per-1)/per)
	var buf []byte
	count := 0
	for i := range n {
		buf = appendTrafficEvent(buf, tenant, first+i%people, i/people, start.Add(time.Duration(i)*step))
		count++
		if count == per || i == n-1 {
			reqs = append(reqs, postBody{body: buf, events: count})
			buf, count = nil, 0
		}
	}
	return reqs
}

// ackedAt is when the answer to a request was read: its events were
// acknowledged (published to the broker and confirmed by it).
type ackedAt struct {
	at     time.Time
	events int
}

// sendClosedLoop posts reqs from clients goroutines, each sending its next
// request when the previous one was answered, until all are sent or the
// deadline passes. It returns the acknowledgements in no particular order.
func sendClosedLoop(n *benchNode, reqs []postBody, clients int, deadline time.Time) ([]ackedAt, error) {
	next := make(chan postBody)
	var mu sync.Mutex
	var acks []ackedAt
	var firstErr error
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []ackedAt
			for r := range next {
				if err := n.postEvents(r.body); err != nil {
					mu.Lock()
					firstErr = firstError(firstErr, err)
					mu.Unlock()
					continue // drain the channel
				}
				mine = append(mine, ackedAt{at: time.Now(), events: r.events})
			}
			mu.Lock()
			acks = append(acks, mine...)
			mu.Unlock()
		}()
	}
	for _, r := range reqs {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || time.Now().After(deadline) {
			break
		}
		next <- r
	}
	close(next)
	wg.Wait()
	return acks, firstErr
}

// sendPaced posts reqs at a fixed offered rate (requests per second) from
// start until `until`, each request in its own goroutine at its scheduled
// time (an open loop: a slow answer does not delay the next postBody), at
// most maxInFlight at once (beyond it requests wait, and the offered rate
// is not met: the achieved rate tells). It returns the acknowledgements
// and the number of requests sent.
func sendPaced(n *benchNode, reqs []postBody, perSecond float64, maxInFlight int, start, until time.Time) ([]ackedAt, int, error) {
	sem := make(chan struct{}, maxInFlight)
	var mu sync.Mutex
	var acks []ackedAt
	var firstErr error
	var wg sync.WaitGroup
	sent := 0
	for i, r := range reqs {
		due := start.Add(time.Duration(float64(i) / perSecond * float64(time.Second)))
		if !due.Before(until) {
			break
		}
		time.Sleep(time.Until(due))
		sem <- struct{}{}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		sent++
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := n.postEvents(r.body)
			at := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = firstError(firstErr, err)
				return
			}
			acks = append(acks, ackedAt{at: at, events: r.events})
		}()
	}
	wg.Wait()
	return acks, sent, firstErr
}

func firstError(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// storedSample is the pipeline's stored-events counter at a time.
type storedSample struct {
	at     time.Time
	stored float64 // since the watch began
}

// watchStored samples the pipeline's stored-events counter (in memory,
// see benchNode.stored) every `every` until target events were stored
// since it began or the deadline passed, then returns the samples. A
// sample every 25 ms costs nothing measurable; the readable times it gives
// are late by at most that.
func watchStored(b *testing.B, n *benchNode, target int, every time.Duration, deadline time.Time) []storedSample {
	base := n.stored(b)
	out := []storedSample{{at: time.Now()}}
	for {
		time.Sleep(every)
		s := storedSample{at: time.Now(), stored: n.stored(b) - base}
		out = append(out, s)
		if s.stored >= float64(target) || s.at.After(deadline) {
			return out
		}
	}
}

// ackToReadable gives each acknowledged event the time it became readable
// and returns the latencies, in ack order, and how many events were not
// readable by the last sample.
//
// Per-event readable times are an approximation: the k-th event
// acknowledged is taken to be readable at the first sample where the
// pipeline had stored k events. Checking each event in the log would load
// the engine the pipeline writes to; the pipeline stores messages roughly
// in the order the broker acknowledged them (one stream, its consumers
// take messages in order), so the k-th stored and the k-th acknowledged
// event are close in time. An event stored before its client read the
// answer counts as latency 0. Events not readable by the last sample get
// the time until that sample, a lower bound.
func ackToReadable(acks []ackedAt, samples []storedSample) (lat []time.Duration, unreadable int) {
	slices.SortFunc(acks, func(a, b ackedAt) int { return a.at.Compare(b.at) })
	last := samples[len(samples)-1]
	j, k := 0, 0
	for _, a := range acks {
		for range a.events {
			k++
			for j < len(samples) && samples[j].stored < float64(k) {
				j++
			}
			at := last.at
			if j < len(samples) {
				at = samples[j].at
			} else {
				unreadable++
			}
			lat = append(lat, max(at.Sub(a.at), 0))
		}
	}
	return lat, unreadable
}

// readableAt is the time of the first sample with at least k events
// stored (ok false if none).
func readableAt(samples []storedSample, k int) (time.Time, bool) {
	for _, s := range samples {
		if s.stored >= float64(k) {
			return s.at, true
		}
	}
	return time.Time{}, false
}

// pct is the q-quantile of ds (nearest rank, ds unsorted).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func inMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// readLoop runs readers goroutines, each calling read with its own index
// and a round number until `until`, and returns every call's latency.
func readLoop(ctx context.Context, readers int, until time.Time, read func(ctx context.Context, reader, round int) error) ([]time.Duration, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for w := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for round := 0; time.Now().Before(until); round++ {
				t := time.Now()
				if err := read(ctx, w, round); err != nil {
					mu.Lock()
					firstErr = firstError(firstErr, err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lat, firstErr
}
