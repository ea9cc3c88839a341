package projections

import (
	"reflect"
	"testing"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

func TestIdentities(t *testing.T) {
	email, phone := ref(identity.Email, "jane@example.com"), ref(identity.Phone, "+15550100")
	device, cookie := ref(identity.DeviceID, "dev-1"), ref(identity.CookieID, "ck-1")
	crm := ref(identity.External, "C-9")
	collect := &event.Collected{Elements: []event.Element{el("email", "contact.email", "")}, Origin: event.Origin{Kind: "consumer"}, Purposes: []string{"order_fulfilment"}, System: "crm"}

	t.Run("the smallest identifier names the person, whatever the order", func(t *testing.T) {
		evs := []event.Recorded{
			rec(1, day(1), "ink", refs(device), collect),
			rec(2, day(2), "ink", refs(cookie, device), &event.Linked{}),
			rec(3, day(3), "ink", refs(phone), collect),
			rec(4, day(4), "ink", refs(phone, cookie), &event.Linked{}),
		}
		for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}} {
			ids := NewIdentities()
			for _, i := range order {
				ids.Apply(evs[i])
			}
			want := PersonID(phone.String()) // phone ranks before device_id and cookie_id
			for _, r := range []identity.Ref{phone, device, cookie} {
				if got, _ := ids.PersonOf("ink", r); got != want {
					t.Errorf("order %v: PersonOf(%v) = %s, want %s", order, r, got, want)
				}
			}
			if got, want := ids.Identifiers("ink", PersonID(device.String())), refs(phone, device, cookie); !reflect.DeepEqual(got, want) {
				t.Errorf("order %v: Identifiers = %v, want %v", order, got, want)
			}
			if got := ids.Persons("ink"); !reflect.DeepEqual(got, []PersonID{want}) {
				t.Errorf("order %v: Persons = %v", order, got)
			}
		}
	})

	t.Run("merge history is in event-time order whatever the arrival order", func(t *testing.T) {
		// Three people, then one event naming all three, then a redundant link.
		evs := []event.Recorded{
			rec(1, day(1), "ink", refs(device), collect),
			rec(2, day(2), "ink", refs(cookie), collect),
			rec(3, day(3), "ink", refs(crm, phone), collect),
			rec(4, day(4), "ink", refs(email, device, cookie, phone), &event.Linked{}),
			rec(5, day(5), "ink", refs(device, crm), &event.Linked{}),
		}
		// crm and phone are first seen together: no merge. Former is sorted
		// as strings: "cookie_id:…" < "device_id:…" < "phone:…".
		want := []Merge{{Event: eid(4), Time: day(4), Into: PersonID(email.String()),
			Former: []PersonID{PersonID(cookie.String()), PersonID(device.String()), PersonID(phone.String())}}}
		for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {3, 0, 4, 1, 2}} {
			ids := NewIdentities()
			for _, i := range order {
				ids.Apply(evs[i])
				ids.Apply(evs[i]) // duplicates change nothing
			}
			if got := ids.Merges("ink"); !reflect.DeepEqual(got, want) {
				t.Errorf("order %v: Merges =\n %+v\nwant\n %+v", order, got, want)
			}
		}
	})

	t.Run("a former person id still finds the merged person", func(t *testing.T) {
		ids := NewIdentities()
		ids.Apply(rec(1, day(1), "ink", refs(device), collect))
		before, _ := ids.PersonOf("ink", device)
		ids.Apply(rec(2, day(2), "ink", refs(email, device), &event.Linked{}))
		got, ok := ids.Resolve("ink", before)
		if !ok || got != PersonID(email.String()) {
			t.Errorf("Resolve(%s) = %s, %v; want %s", before, got, ok, email)
		}
		if _, ok := ids.Resolve("ink", "email:unknown"); ok {
			t.Error("an unknown id resolved")
		}
	})

	t.Run("tenants are separate people", func(t *testing.T) {
		ids := NewIdentities()
		ids.Apply(rec(1, day(1), "ink", refs(email, device), &event.Linked{}))
		ids.Apply(rec(2, day(1), "acme", refs(email), collect))
		ids.Apply(rec(3, day(1), "", refs(email, cookie), &event.Linked{}))
		if got := ids.Identifiers("acme", PersonID(email.String())); !reflect.DeepEqual(got, refs(email)) {
			t.Errorf("acme identifiers = %v", got)
		}
		if got := ids.Identifiers(event.DefaultTenant, PersonID(email.String())); !reflect.DeepEqual(got, refs(email, cookie)) {
			t.Errorf("default tenant identifiers = %v", got)
		}
		if got := ids.Tenants(); !reflect.DeepEqual(got, []string{"acme", "default", "ink"}) {
			t.Errorf("Tenants = %v", got)
		}
	})

	t.Run("what is ignored", func(t *testing.T) {
		ids := NewIdentities()
		if !ids.Apply(rec(1, day(1), "ink", refs(email), collect)) {
			t.Error("first event not applied")
		}
		if ids.Apply(rec(1, day(1), "ink", refs(email), collect)) {
			t.Error("duplicate applied")
		}
		if ids.Apply(rec(2, day(1), "ink", refs(email, device), &event.Request{RequestID: "r1"})) {
			t.Error("request event applied")
		}
		if ids.Apply(rec(3, day(1), "ink", nil, collect)) || ids.Apply(event.Recorded{}) {
			t.Error("event without identifiers applied")
		}
		if _, ok := ids.PersonOf("ink", device); ok {
			t.Error("a request's identifiers joined a person")
		}
	})
}
