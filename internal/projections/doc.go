// Package projections folds the event log into the read side's answers:
// who a person is (identity resolution), what the business holds about them
// and whom it told (the per-subject record), and the organisation-wide data
// map behind a privacy notice.
//
// It is the pure domain core: it takes []event.Recorded as the log gives them
// back and answers from memory. It does no I/O, reads no clock (every time
// comes from an event) and has no package-level state. Storing projections,
// paging through the log and serving queries belong to other packages.
//
// # Identity
//
// Identities is a union-find over identifier keys (tenant, kind, namespace,
// hash). Every event's identifiers belong to one person, subject.linked
// included, so a person is a connected component: the union of identifiers
// that appear together in any event, within one tenant (the same email at two
// brands is two people). Identifier values are never available, only their
// keyed hashes.
//
// A PersonID is the key of the person's smallest identifier, identifiers
// ordered by kind as identity.Kinds lists them (email, phone, user_id, …,
// external), then namespace, then hash. It depends only on the set of
// identifiers, never on arrival order; when people merge, the merged person
// takes the smaller of their ids. A PersonID is itself an identifier key, so a
// former PersonID still finds the person it was merged into.
//
// Merges is the history of merges in event-time order: the events are
// replayed by (time, id) and a merge is recorded whenever an event names
// identifiers of two or more people already known at that point. It is a
// function of the set of events alone — arrival order and duplicates do not
// change it — and it may differ from what a caller saw while events were
// still arriving out of order.
//
// Identity uses every event regardless of any window: a link learned later
// applies to earlier events, and a windowed record is still the whole person.
// request.* events are ignored altogether: a requester's claimed identifiers
// are not proof that they are one person.
//
// # Records and the data map
//
// Projector keeps the events (deduplicated by id, the log's idempotency key)
// indexed by identifier and aggregates on read: Record gathers the events of
// the person's identifiers, keeps those in the window, and folds them. Every
// field of the fold is a set union, a minimum, a maximum, a count of distinct
// events, or "the latest event wins" with ties broken by event id, so the
// result is a function of the set of events: the same whether built
// incrementally, rebuilt by replay, delivered twice or out of order. Lists are
// sorted.
//
// A windowed record describes what the events inside [From, To) say and
// nothing else: an element collected before the window and erased inside it
// appears as erased; one erased after the window appears as held. For the
// current state use the unbounded Window{}.
//
// DataMap answers the privacy notice's questions for a tenant and window:
// which categories were collected, from which kinds of source, for which
// purposes; which were disclosed, to which kinds of recipient, in which legal
// role and as which disclosure type (business purpose, sale, sharing, …);
// each with the number of distinct people.
//
// Cost: Apply is O(identifiers·log n) amortised (union by size, smaller
// component relabelled). Record is O(k log k) for a person with k events;
// DataMap is O(E log E) and Merges O(E log E) for a tenant with E events.
// Everything is held in memory; a Projector is not safe for concurrent use
// while Apply runs (concurrent reads without writes are safe).
package projections
