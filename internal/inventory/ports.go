package inventory

import (
	"context"
	"errors"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/projections"
)

// Errors callers branch on.
var (
	// ErrNotFound: no event names the identifier (in that tenant).
	ErrNotFound = errors.New("no such person")
	// ErrTooLarge: the person has more identifiers than Config allows;
	// usually a shared identifier (a family tablet's device id) joining
	// many people.
	ErrTooLarge = errors.New("person too large")
)

// Events reads the event log.
type Events interface {
	// ByPerson returns every event of tenant about the person whose
	// identifiers are exactly hashes (all of them: the identity walk's
	// result), each once, in time order, with element values decrypted where
	// their data key still exists (Recorded.Shredded otherwise).
	ByPerson(ctx context.Context, tenant string, hashes []string) ([]event.Recorded, error)
}

// IdentityGraph reads the stored identity links.
type IdentityGraph interface {
	// Neighbours returns every identifier that shares an event with any of
	// hashes (an identifier links to the hub of each event it appears in,
	// and a hub to every identifier of its events), each once, in any
	// order. Each of hashes that any event other than request.* and
	// access.* names is among them; a hash no such event names yields
	// nothing.
	Neighbours(ctx context.Context, tenant string, hashes []string) ([]identity.Ref, error)
	// Links returns tenant's identifier links, each unordered pair once.
	Links(ctx context.Context, tenant string) ([][2]string, error)
}

// FactGroup is one combination of the data map's facts in a window: a flow
// and what it names, with the subject keys (identifier hashes) of the events
// behind it. Rows are a set: duplicates of an event never change a group.
type FactGroup struct {
	Flow          projections.Flow
	Category      string
	SourceKind    string
	Purpose       string
	RecipientName string
	RecipientKind string
	RecipientRole string
	Disclosure    string
	Subjects      []string
	Events        uint64
	First, Last   time.Time
}

// Facts reads the stored data map facts.
type Facts interface {
	// Facts returns tenant's fact groups with an event time inside w,
	// sorted by every field but the counts.
	Facts(ctx context.Context, tenant string, w projections.Window) ([]FactGroup, error)
}
