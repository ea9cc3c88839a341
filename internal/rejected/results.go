package rejected

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/custodyhq/custody/internal/event"
)

var (
	// tenantPattern is the event contract's tenant name.
	tenantPattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	// typePattern is what an event type looks like; a type sent that does
	// not look like one is not kept in the clear (it may be anything).
	typePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
)

// maxEventIDBytes bounds the event id kept as sent.
const maxEventIDBytes = 128

// FromResults returns a Rejection for every rejected result of a decoded
// batch (event.DecodeBatch), in order: its index, id as sent and errors,
// the tenant and type read from the raw bytes when possible, and the raw
// bytes (copied) as Payload, with their Size. IDs are new v7 UUIDs; At is
// now. Store.Put cuts payloads to its Limits.
func FromResults(results []event.Result, stage string, now time.Time) []Rejection {
	at := now.UTC().Truncate(time.Millisecond)
	var out []Rejection
	for _, res := range results {
		if res.Event != nil {
			continue
		}
		tenant, typ := envelopeOf(res.Raw)
		out = append(out, Rejection{
			ID: newID(), Tenant: tenant, At: at, Stage: stage, Index: res.Index,
			EventID: clip(res.ID, maxEventIDBytes), EventType: typ,
			Errors:  slices.Clone(res.Errors),
			Payload: bytes.Clone(res.Raw),
			Size:    len(res.Raw),
			Status:  StatusRejected,
		})
	}
	return out
}

// envelopeOf reads the tenant and type of a raw event leniently: the
// tenant when it is a valid tenant name (else the default tenant), the
// type when it looks like an event type (else "").
func envelopeOf(raw []byte) (tenant, typ string) {
	tenant = event.DefaultTenant
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return tenant, ""
	}
	var s string
	if json.Unmarshal(top["tenant"], &s) == nil && tenantPattern.MatchString(s) {
		tenant = s
	}
	s = ""
	if json.Unmarshal(top["type"], &s) == nil && typePattern.MatchString(s) {
		typ = s
	}
	return tenant, typ
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
