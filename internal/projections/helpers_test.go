package projections

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
)

// eid returns a deterministic event id.
func eid(n uint64) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], n)
	return u
}

// ref returns an identifier reference with a readable fake hash.
func ref(k identity.Kind, name string) identity.Ref {
	r := identity.Ref{Kind: k, Hash: fmt.Sprintf("%x", name)}
	if k == identity.External {
		r.Namespace = "crm"
	}
	return r
}

func day(d int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }

// rec builds a recorded event.
func rec(id uint64, t time.Time, tenant string, refs []identity.Ref, data event.Data) event.Recorded {
	return event.Recorded{
		Event: &event.Event{ID: eid(id), SpecVersion: event.SpecVersion, Type: typeOf(data), Source: "test",
			Time: t, Tenant: tenant, Data: data},
		Identifiers: refs,
	}
}

func typeOf(d event.Data) event.Type {
	switch d.(type) {
	case *event.Collected:
		return event.TypeCollected
	case *event.Shared:
		return event.TypeShared
	case *event.Processed:
		return event.TypeProcessed
	case *event.Transferred:
		return event.TypeTransferred
	case *event.Corrected:
		return event.TypeCorrected
	case *event.Erased:
		return event.TypeErased
	case *event.ConsentChanged:
		return event.TypeConsentChanged
	case *event.Linked:
		return event.TypeSubjectLinked
	case *event.Request:
		return event.TypeRequestOpened
	}
	panic("unknown data")
}

func refs(rs ...identity.Ref) []identity.Ref { return rs }

func el(name, category, value string) event.Element {
	e := event.Element{Name: name, Category: category}
	if value != "" {
		e.Value = []byte(fmt.Sprintf("%q", value))
	}
	return e
}

// diff names the fields in which two values differ (top level of a struct),
// or the whole values.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	if wv.Kind() != reflect.Struct || wv.Type() != gv.Type() {
		return fmt.Sprintf("\n want %+v\n  got %+v", want, got)
	}
	var b strings.Builder
	for i := range wv.NumField() {
		w, g := wv.Field(i).Interface(), gv.Field(i).Interface()
		if !reflect.DeepEqual(w, g) {
			fmt.Fprintf(&b, "\n %s:\n  want %+v\n   got %+v", wv.Type().Field(i).Name, w, g)
		}
	}
	return b.String()
}

func mustRecord(t *testing.T, p *Projector, tenant string, r identity.Ref, w Window) Record {
	t.Helper()
	person, ok := p.PersonOf(tenant, r)
	if !ok {
		t.Fatalf("no person for %v in %s", r, tenant)
	}
	rc, ok := p.Record(tenant, person, w)
	if !ok {
		t.Fatalf("no record for %s", person)
	}
	return rc
}

func findElement(r Record, name, category string) (Element, bool) {
	for _, e := range r.Elements {
		if e.Name == name && e.Category == category {
			return e, true
		}
	}
	return Element{}, false
}
