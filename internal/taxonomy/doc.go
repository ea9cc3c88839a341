// Package taxonomy loads, validates and answers questions about Custody's
// privacy taxonomy: the controlled vocabularies that events use (data
// categories, source kinds, recipient kinds and roles, disclosure types,
// purposes, legal bases, consent choices and mechanisms, erasure reasons,
// transfer mechanisms) and the statutory reference lists they map onto
// (CCPA 1798.140(v)(1) categories, 1798.140(ae) sensitive classes, the
// 11 CCR 7024(d) never-disclose list, GDPR Art. 9/10 special categories).
//
// The vocabularies are data, not code: they live as commented YAML in
// schema/taxonomy/ (embedded by package schema) and are read with Load.
// A tenant may add terms of its own with an Extension; it cannot change or
// remove base terms. A *Taxonomy is immutable once built, so one value can
// be shared by any number of goroutines; WithExtension returns a new one.
//
// What it is for:
//   - the event validator asks Lookup whether an event's terms exist, and
//     gets a "did you mean" suggestion when they do not;
//   - reports and projections use the typed accessors (Category, Purpose,
//     Disclosure, Statutory, …) for statutory names, plain-language
//     descriptions, "never disclose" and "sold or shared" flags.
//
// What it is not for: it stores no events and no per-person data, decides
// nothing about retention, consent or legality (it only names things), does
// no I/O beyond the fs.FS and io.Reader it is given, and does not persist
// tenant extensions — callers load them from wherever they keep them.
package taxonomy
