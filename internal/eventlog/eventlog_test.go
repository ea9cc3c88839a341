package eventlog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/clickhouse"
	"github.com/custodyhq/custody/internal/clickhouse/chtest"
	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/keyring"
	"github.com/custodyhq/custody/internal/migrate"
	"github.com/custodyhq/custody/schema"
)

// newLog migrates conn and builds a Log with fresh secrets.
func newLog(t testing.TB, conn clickhouse.Conn) *Log {
	t.Helper()
	ctx := context.Background()
	m, err := migrate.New(conn, schema.ClickHouse(), migrate.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	secret, err := keyring.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := identity.NewHasher(secret)
	if err != nil {
		t.Fatal(err)
	}
	master, _, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.New(NewKeyStore(conn), master)
	if err != nil {
		t.Fatal(err)
	}
	return New(conn, hasher, keys)
}

// generate builds n valid events about subjects people, of every kind that
// carries values, with deterministic content.
func generate(tenant string, n, people int, seed uint64) []*event.Event {
	r := rand.New(rand.NewPCG(seed, seed))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*event.Event, n)
	for i := range out {
		p := r.IntN(people)
		e := &event.Event{
			ID: uuid.New(), SpecVersion: event.SpecVersion, Source: "checkout-service", Tenant: tenant,
			Time: base.Add(time.Duration(r.IntN(365*24*3600)) * time.Second).Add(time.Duration(r.IntN(1000)) * time.Millisecond),
			Subject: event.Subject{Identifiers: []event.Identifier{
				{Kind: identity.Email, Value: fmt.Sprintf("person%d@example.com", p)},
				{Kind: identity.CustomerID, Value: fmt.Sprintf("C-%d", p)},
			}},
		}
		switch i % 3 {
		case 0:
			e.Type = event.TypeCollected
			e.Data = &event.Collected{
				Elements: []event.Element{
					{Name: "email", Category: "contact.email", Value: json.RawMessage(fmt.Sprintf("%q", fmt.Sprintf("person%d@example.com", p)))},
					{Name: "address", Category: "contact.postal_address", Value: json.RawMessage(`{"city":"Springfield","zip":"12345"}`)},
					{Name: "ip", Category: "online.ip_address"},
				},
				Origin: event.Origin{Kind: "consumer", Name: "checkout form"}, Purposes: []string{"order_fulfilment"}, System: "orders-db",
			}
		case 1:
			e.Type = event.TypeShared
			e.Data = &event.Shared{
				Recipient:  event.Recipient{Name: "AdNet", Kind: "advertising_network", Role: "third_party", Country: "US"},
				Elements:   []event.Element{{Name: "email", Category: "contact.email"}},
				Purposes:   []string{"targeted_advertising"},
				Disclosure: "sharing", System: "crm",
			}
		default:
			e.Type = event.TypeConsentChanged
			e.Data = &event.ConsentChanged{Choice: "sale", Status: event.ConsentStatus("opted_out"), Mechanism: "gpc"}
		}
		out[i] = e
	}
	return out
}

func appendAll(t testing.TB, l *Log, events []*event.Event, batch int) (stored, dups int) {
	t.Helper()
	for i := 0; i < len(events); i += batch {
		end := min(i+batch, len(events))
		outcomes, err := l.Append(context.Background(), events[i:end])
		if err != nil {
			t.Fatalf("append [%d:%d]: %v", i, end, err)
		}
		for _, o := range outcomes {
			if o == Duplicate {
				dups++
			} else {
				stored++
			}
		}
	}
	return stored, dups
}

// personHashes returns the stored hashes of ids, as ByPerson takes them:
// all of a person's identifiers read all of their events. (Other packages
// use logtest.Hashes, which this package's tests cannot import.)
func personHashes(t testing.TB, l *Log, ids ...identity.Identifier) []string {
	t.Helper()
	out := make([]string, len(ids))
	for i, id := range ids {
		ref, err := l.hasher.Ref(id)
		if err != nil {
			t.Fatalf("hash identifier %d: %v", i, err)
		}
		out[i] = ref.Hash
	}
	return out
}

// accessRecorded is an internal event: a read of the person with ids,
// recorded by Custody.
func accessRecorded(tenant string, at time.Time, ids ...identity.Identifier) *event.Event {
	return &event.Event{ID: uuid.New(), SpecVersion: event.SpecVersion, Type: event.TypeAccessRecorded, Source: "custody", Tenant: tenant,
		Time: at, Subject: event.Subject{Identifiers: ids},
		Data: &event.Access{Actor: "analyst-token", Role: "analyst", Operation: "graphql.subject", Purpose: "answer a request", Found: true}}
}

// visibleIDs scans the whole log and returns every id a reader sees, with
// its multiplicity.
func visibleIDs(t testing.TB, l *Log) map[uuid.UUID]int {
	t.Helper()
	seen := map[uuid.UUID]int{}
	var cur Cursor
	for {
		page, next, err := l.Scan(context.Background(), cur, 3000)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		if len(page) == 0 {
			return seen
		}
		for _, r := range page {
			seen[r.Event.ID]++
		}
		cur = next
	}
}

func TestAppend_SameEventsTwiceInShuffledOrderAreStoredOnce(t *testing.T) {
	for _, tr := range chtest.Transports(t) {
		t.Run(tr.Name, func(t *testing.T) {
			l := newLog(t, tr.Open(t))
			events := generate("acme", 10_000, 500, 1)
			if stored, dups := appendAll(t, l, events, 1000); stored != 10_000 || dups != 0 {
				t.Fatalf("first pass: stored %d, duplicates %d", stored, dups)
			}
			shuffled := append([]*event.Event(nil), events...)
			rand.New(rand.NewPCG(2, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if stored, dups := appendAll(t, l, shuffled, 700); stored != 0 || dups != 10_000 {
				t.Fatalf("second pass: stored %d, duplicates %d", stored, dups)
			}
			n, err := l.Count(context.Background(), "acme")
			if err != nil || n != 10_000 {
				t.Fatalf("count = %d, %v; want 10000", n, err)
			}
			ids := visibleIDs(t, l)
			if len(ids) != 10_000 {
				t.Fatalf("scan saw %d distinct events, want 10000", len(ids))
			}
			for id, k := range ids {
				if k != 1 {
					t.Fatalf("event %s visible %d times", id, k)
				}
			}
		})
	}
}

// A duplicate that races past the pre-check (two writers, or a retry after
// a crash) reaches storage; it must still never be visible to a reader.
func TestAppend_DuplicateRowsInStorageAreInvisible(t *testing.T) {
	for _, tr := range chtest.Transports(t) {
		t.Run(tr.Name, func(t *testing.T) {
			conn := tr.Open(t)
			l := newLog(t, conn)
			ctx := context.Background()
			events := generate("acme", 50, 5, 3)
			// Reads of person 0, internal events found by identifier.
			person := events[0].Subject.Identifiers
			for i := range 5 {
				events = append(events, accessRecorded("acme", events[0].Time.Add(time.Duration(i)*time.Minute), person...))
			}
			rows := make([]row, len(events))
			for i, e := range events {
				p := []pending{pendingOf(t, l, e)}
				if err := l.dataKeys(ctx, p); err != nil {
					t.Fatal(err)
				}
				r, err := l.toRow(p[0], time.Now().UTC().Truncate(time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				rows[i] = r
			}
			for range 3 { // three parts holding the same rows, as a race would leave
				if err := conn.Insert(ctx, tableEvents, rows); err != nil {
					t.Fatal(err)
				}
			}
			if n, _ := l.Count(ctx, "acme"); n != 55 {
				t.Fatalf("count = %d, want 55", n)
			}
			for id, k := range visibleIDs(t, l) {
				if k != 1 {
					t.Fatalf("scan shows %s %d times", id, k)
				}
			}
			recs, err := l.ByPerson(ctx, "acme", personHashes(t, l, person...))
			if err != nil {
				t.Fatal(err)
			}
			internal, err := l.InternalByIdentifiers(ctx, "acme", person[0])
			if err != nil {
				t.Fatal(err)
			}
			for name, recs := range map[string][]event.Recorded{"ByPerson": recs, "InternalByIdentifiers": internal} {
				seen := map[uuid.UUID]bool{}
				for _, r := range recs {
					if seen[r.Event.ID] {
						t.Fatalf("%s shows %s twice", name, r.Event.ID)
					}
					seen[r.Event.ID] = true
				}
				if len(recs) == 0 {
					t.Fatalf("%s found nothing", name)
				}
			}
			if len(internal) != 5 {
				t.Fatalf("InternalByIdentifiers found %d reads of the person, want 5", len(internal))
			}
		})
	}
}

func TestByPerson_ReturnsThePersonsEventsWithValuesDecrypted(t *testing.T) {
	for _, tr := range chtest.Transports(t) {
		t.Run(tr.Name, func(t *testing.T) {
			l := newLog(t, tr.Open(t))
			ctx := context.Background()
			events := generate("acme", 300, 10, 4)
			appendAll(t, l, events, 300)
			// Person 3's identifiers, written as a caller might (case and
			// spacing differ from the events').
			person3 := personHashes(t, l,
				event.Identifier{Kind: identity.Email, Value: " Person3@Example.com "},
				event.Identifier{Kind: identity.CustomerID, Value: " C-3 "})
			recs, err := l.ByPerson(ctx, "acme", person3)
			if err != nil {
				t.Fatal(err)
			}
			want := map[uuid.UUID]*event.Event{}
			for _, e := range events {
				if e.Subject.Identifiers[1].Value == "C-3" {
					want[e.ID] = e
				}
			}
			if len(recs) != len(want) || len(want) == 0 {
				t.Fatalf("got %d events, want %d", len(recs), len(want))
			}
			for i, r := range recs {
				orig := want[r.Event.ID]
				if orig == nil {
					t.Fatalf("event %s is not person 3's", r.Event.ID)
				}
				if i > 0 && r.Event.Time.Before(recs[i-1].Event.Time) {
					t.Fatal("events are not in time order")
				}
				gotData, _ := json.Marshal(r.Event.Data)
				wantData, _ := json.Marshal(orig.Data)
				if !bytes.Equal(gotData, wantData) || !r.Event.Time.Equal(orig.Time) || r.Event.Type != orig.Type {
					t.Fatalf("event %s differs:\n got %s\nwant %s", r.Event.ID, gotData, wantData)
				}
				if len(r.Identifiers) != 2 || r.Identifiers[0].Hash == "" || r.Event.Subject.Identifiers[0].Value != "" {
					t.Fatalf("identifiers: %+v", r.Identifiers)
				}
			}
			other, err := l.ByPerson(ctx, "another-tenant", person3)
			if err != nil || len(other) != 0 {
				t.Fatalf("another tenant sees %d events (%v)", len(other), err)
			}
		})
	}
}

// Raw identifiers and element values never reach ClickHouse's files.
func TestAppend_NoRawIdentifierOrValueIsStoredInTheClear(t *testing.T) {
	dir := t.TempDir()
	conn := chtest.EmbeddedAt(t, dir)
	l := newLog(t, conn)
	ctx := context.Background()
	secret := "very-secret-person@example.com"
	e := &event.Event{ID: uuid.New(), SpecVersion: "1.0", Type: event.TypeCollected, Source: "s", Tenant: "acme",
		Time:    time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		Subject: event.Subject{Identifiers: []event.Identifier{{Kind: identity.Email, Value: secret}, {Kind: identity.Phone, Value: "+14155550123"}}},
		Data: &event.Collected{Elements: []event.Element{{Name: "ssn", Category: "government_id.ssn", Value: json.RawMessage(`"078-05-1120"`)}},
			Origin: event.Origin{Kind: "consumer"}, Purposes: []string{"account_management"}, System: "crm"}}
	// A recorded read of the person: an internal event, so that
	// event_identifiers has rows to check too.
	read := accessRecorded("acme", e.Time, e.Subject.Identifiers...)
	if _, err := l.Append(ctx, []*event.Event{e, read}); err != nil {
		t.Fatal(err)
	}
	// Every stored column, read back: compressed files alone could hide a
	// value stored in the clear from the file scan below.
	var stored []struct {
		Dump string `ch:"dump"`
	}
	for _, q := range []string{
		"SELECT concat(toString(tuple(*)), '') AS dump FROM events",
		"SELECT concat(toString(tuple(*)), '') AS dump FROM event_identifiers",
		"SELECT concat(toString(tuple(*)), '') AS dump FROM event_ids_v2",
		"SELECT concat(toString(tuple(*)), '') AS dump FROM subject_keys",
	} {
		stored = stored[:0]
		if err := conn.Select(ctx, &stored, q, nil); err != nil {
			t.Fatal(err)
		}
		if len(stored) == 0 {
			t.Fatalf("%s: no rows", q)
		}
		for _, r := range stored {
			for _, needle := range []string{secret, "+14155550123", "4155550123", "078-05-1120", "very-secret"} {
				if strings.Contains(r.Dump, needle) {
					t.Fatalf("%s holds %q in the clear", q, needle)
				}
			}
		}
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE events FINAL", nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil { // flush everything to disk
		t.Fatal(err)
	}
	for _, needle := range []string{secret, "+14155550123", "4155550123", "078-05-1120"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(needle)) {
				return fmt.Errorf("%s holds %q in the clear", path, needle)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestShred_LeavesEventsButMakesValuesUnreadable(t *testing.T) {
	for _, tr := range chtest.Transports(t) {
		t.Run(tr.Name, func(t *testing.T) {
			l := newLog(t, tr.Open(t))
			ctx := context.Background()
			events := generate("acme", 30, 1, 5)
			appendAll(t, l, events, 30)
			person := personHashes(t, l, events[0].Subject.Identifiers...)
			before, err := l.ByPerson(ctx, "acme", person)
			if err != nil || len(before) != 30 {
				t.Fatalf("before shred: %d, %v", len(before), err)
			}
			if err := l.Shred(ctx, "acme", before[0].SubjectKey); err != nil {
				t.Fatal(err)
			}
			after, err := l.ByPerson(ctx, "acme", person)
			if err != nil || len(after) != 30 {
				t.Fatalf("after shred: %d events, %v (events must stay)", len(after), err)
			}
			for _, r := range after {
				for _, s := range r.Event.Data.ValueSlots() {
					if len(s.Value) > 0 {
						t.Fatalf("event %s still has a readable value after shred", r.Event.ID)
					}
				}
				if r.Event.Type == event.TypeCollected && !r.Shredded {
					t.Fatalf("event %s with sealed values is not marked shredded", r.Event.ID)
				}
			}
		})
	}
}

func TestLog_SurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	func() {
		conn := chtest.EmbeddedAt(t, dir)
		l := newLog(t, conn)
		appendAll(t, l, generate("acme", 500, 20, 6), 500)
		_ = conn.Close()
	}()
	conn := chtest.EmbeddedAt(t, dir)
	var rows []struct {
		N uint64 `ch:"n"`
	}
	if err := conn.Select(ctx, &rows, migrate.Tables{}.MustSQL(queryCount), clickhouse.Params{"tenant": "acme"}); err != nil {
		t.Fatal(err)
	}
	if rows[0].N != 500 {
		t.Fatalf("after reopen: %d events, want 500", rows[0].N)
	}
}

// Lists passed to format() read back exactly, whatever they hold: strings
// as TSV lines, ids as the hex of their RowBinary form.
func TestFormatLists_ReadBackAsTheyWere(t *testing.T) {
	chtest.RequireLibrary(t)
	conn := chtest.Embedded(t)
	ctx := context.Background()
	in := []string{"abc", `back\slash`, "tab\there", "new\nline", "cr\rx", "nul\x00x", `\N`, "ünï", "'quote'"}
	var rows []struct {
		S string `ch:"s"`
	}
	if err := conn.Select(ctx, &rows, `SELECT s FROM format(TSV, 's String', {v:String})`, clickhouse.Params{"v": tsvLines(in)}); err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(rows))
	for i, r := range rows {
		got[i] = r.S
	}
	if !slices.Equal(got, in) {
		t.Fatalf("got %q, want %q", got, in)
	}
	ids := []uuid.UUID{uuid.New(), uuid.Nil, uuid.MustParse("00112233-4455-6677-8899-aabbccddeeff"), uuid.New()}
	var idRows []struct {
		ID uuid.UUID `ch:"id"`
	}
	if err := conn.Select(ctx, &idRows, `SELECT id FROM format(RowBinary, 'id UUID', unhex({v:String}))`, clickhouse.Params{"v": uuidRowBinaryHex(ids)}); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, r := range idRows {
		got = append(got, r.ID.String())
	}
	want := make([]string, len(ids))
	for i, id := range ids {
		want[i] = id.String()
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// Issue 17: the same event id sent by another tenant was dropped as a
// duplicate. An event is a tenant and an id: the same id in two tenants is
// two events, each stored once.
func TestAppend_TheSameIDInTwoTenantsIsTwoEvents(t *testing.T) {
	l := newLog(t, chtest.Embedded(t))
	ctx := context.Background()
	acme := generate("acme", 20, 5, 31)
	globex := generate("globex", 20, 5, 32)
	for i := range globex {
		globex[i].ID = acme[i].ID
	}
	// One tenant first, then the other; then both again, in one batch with
	// the same id twice in each tenant.
	for _, batch := range [][]*event.Event{acme, globex} {
		out, err := l.Append(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range out {
			if o != Stored {
				t.Fatalf("event %d: %s, want stored", i, o)
			}
		}
	}
	again := append(append(append([]*event.Event(nil), acme...), globex...), acme[0], globex[0])
	out, err := l.Append(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o != Duplicate {
			t.Fatalf("event %d sent again: %s, want duplicate", i, o)
		}
	}
	for _, tenant := range []string{"acme", "globex"} {
		if n, err := l.Count(ctx, tenant); err != nil || n != 20 {
			t.Fatalf("%s holds %d events (%v), want 20", tenant, n, err)
		}
	}
	if n, err := l.Count(ctx, ""); err != nil || n != 40 {
		t.Fatalf("the log holds %d events (%v), want 40", n, err)
	}
	ids := visibleIDs(t, l)
	for _, e := range acme {
		if ids[e.ID] != 2 {
			t.Fatalf("id %s visible %d times in a scan, want 2 (one per tenant)", e.ID, ids[e.ID])
		}
	}
}
