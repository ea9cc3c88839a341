// Package lineage is the lineage graph of personal data: where each datum came
// from, where it is held, where it went, what was derived from it and who
// received it, as it stands now or as it stood at any earlier time.
//
// It is pure domain logic. A Graph is built from recorded events (Build, or
// Apply one at a time) and answers Upstream, Downstream and Both queries. It
// does no I/O, reads no clock, keeps no package-level state and does not
// resolve identities: Options.PersonOf says which person an event is about
// (default: event.Recorded.SubjectKey). It is not a store, not a projection
// of what is held today (internal/projections is) and not safe for
// concurrent mutation (queries may run concurrently when nothing applies).
//
// # Nodes
//
// Node IDs are readable strings with a kind prefix; every component is
// escaped ("%" → "%25", "/" → "%2F") so distinct inputs never share an ID.
// Everything is scoped by tenant, as the per-person data keys are.
//
//	subject:<tenant>/<person>
//	element:<tenant>/<person>/<category>/<name>  a datum of one person
//	system:<tenant>/<name>
//	source:<tenant>/<origin kind>/<origin name>
//	activity:<tenant>/<system>/<activity>
//	recipient:<tenant>/<recipient kind>/<name>
//
// Build IDs with SubjectID, ElementID, SystemID, SourceID, ActivityID and
// RecipientID. Elements are per person; systems, sources, activities and
// recipients are shared by the whole tenant.
//
// # Edges
//
// An edge is (Kind, From, To, Via). Every edge carries First and Last (the
// earliest and latest event time proving it), the sorted ids of those
// events, and attributes aggregated from them (sorted, distinct).
//
//	collected-from  element → source      attrs purpose, legal_basis, notice, system
//	stored-in       element → system      held there: collected into, transferred
//	                                      from or to, disclosed from, produced or
//	                                      corrected in
//	transferred-to  element → system      Via: the system node it was copied from;
//	                                      attrs country, mechanism
//	shared-with     element → recipient   Via: the disclosure type; attrs purpose,
//	                                      role, country, system
//	derived-from    element → element     output → input; Via: the activity node
//	processed-by    element → activity    an input of the activity; attrs purpose,
//	                                      automated_decision
//	produced-by     element → activity    an output of the activity; attrs purpose
//	corrected       element → element     a self-loop annotation; attrs system
//	erased          element → system      erased there; attrs reason, request_id.
//	                                      A self-loop when the erasure names no
//	                                      system (erased everywhere).
//	belongs-to      element → subject
//
// A transfer is an edge per element (element → destination system, with the
// origin system as Via) so that "where did this datum go" follows it without
// carrying the element along a system-to-system path.
//
// Erasures by categories or all apply to the person's elements of those
// categories that were stored in the erasure's system at or before the
// erasure's time, whichever order the events arrive in. Erased data never
// vanishes: the element keeps its node and edges, gains an erased edge, and
// its Node reports Erased (gone from every system that held it), ErasedAt
// and ErasedFrom. An element stored in a system again after an erasure there
// is held there again.
//
// # Queries
//
// Data flows source → element → system/recipient/activity, and input →
// output along derived-from. Downstream follows the flow, upstream follows it
// backwards; Both is the union of the two (not an undirected walk, which
// would wander from an input to its siblings):
//
//	downstream from an element: transferred-to, shared-with, processed-by,
//	    and derived-from backwards to the elements derived from it
//	upstream from an element: collected-from, produced-by, derived-from
//
// Systems, sources, activities and recipients are shared by many people, so
// a walk stops at them (they are leaves) unless the walk starts there. From a
// subject or a system the first hop goes to its elements; from a source
// downstream to the elements collected from it; from a recipient upstream to
// the elements shared with it; from an activity downstream to its outputs
// and upstream to its inputs. Every element in a result comes with its
// context — belongs-to, stored-in, corrected and erased edges — which are
// not hops.
//
// Query.Depth limits hops from the start; Query.PerHop limits how many
// neighbours one node expands to (the first by node ID). Upstream or
// downstream, IsPartial is true exactly when the result differs from the
// unlimited result; Both is partial when either direction is. There is no
// time-out. Query.AsOf shows the graph as it stood at that instant: only
// what events at or before it prove (a query as of t equals the same query
// on a graph built from the events at or before t). Results are sorted.
//
// # Order and duplicates
//
// Event ids are idempotency keys: the second delivery of an id is ignored.
// The graph depends only on the set of events, not on their order: First is
// the minimum and Last the maximum time, event ids and attributes are sets,
// and erasures apply retroactively. A graph built with a PersonOf whose
// answers later change (identities linked) must be rebuilt.
//
// # Complexity
//
// Memory is O(N + Σ element mentions) where each mention keeps one
// (time, event id, attributes) occurrence on its edge. Apply costs
// O(m·(log k + s)) for m elements in the event, k occurrences per edge and s
// category/all erasures of the person (plus, for such an erasure, the
// person's elements). A query costs O((V + E)·log E + Σ occurrences of the
// edges it returns) for the V nodes and E edges it visits.
package lineage
