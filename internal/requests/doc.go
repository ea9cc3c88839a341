// Package requests is the rights-request lifecycle: requests to know, for
// access, to delete, to correct, to opt out and to limit, under the CCPA,
// the GDPR and the US state laws the reference customers name, recorded as
// request.* events in the log.
//
// It is a pure domain package: no I/O, no clock, no package state. A
// Lifecycle's commands (Open, Confirm, Verify, Extend, Complete, Deny,
// Appeal) check a step against the request's current state and return the
// event.Event to append; Apply and Replay fold those events back into a
// Request. The commands and the fold share one set of checks, so an event a
// command returns always folds, and a log with an invalid step (two writers
// racing) folds the same way every time, the bad step reported and skipped.
//
// Every event of a request carries RequestIdentifier(id), an external
// identifier in namespace custody_request: the opened event next to the
// person's identifiers, the later steps alone, since the log keeps no
// identifier values to repeat. Load a request's events by it.
//
// # States
//
//	open → confirmed → verified → completed | denied → appealed → completed | denied
//
// One extension may be taken before the answer (and one for an appeal,
// where the law allows it). Requests to opt out and to limit need no
// verification. A request to know whose verification reached only the
// categories standard is answered with categories (11 CCR 7024(a), 7062):
// Request.Scope says what a report may show.
//
// # Deadlines
//
// Deadlines are dates in the business's time zone (Config.Location), met by
// the end of the day; the day of receipt never counts. RulesFor has them per
// law and type, with citations: under the CCPA, confirm within 10 business
// days (weekends and Config.Holidays excluded) and answer within 45
// calendar days, once extendable to 90 (opt-outs and requests to limit: 15
// business days, no extension); under the GDPR, one month, extendable to
// three, counted as Regulation 1182/71 counts months (Jan 31 + 1 month =
// Feb 28) and moved off weekends and holidays; the US state acts 45 + 45
// days with an appeal deadline. Status says, for a moment passed in, what is
// due, met, late or overdue.
//
// # Records
//
// Record is the 11 CCR 7101 record of a request (kept at least 24 months
// after it closes); Metrics compiles the yearly 11 CCR 7102 figures per
// request type.
//
// What it is not: it does not store events, send notices, verify anyone or
// generate reports (package report does); it only decides whether a step is
// allowed and what the deadlines are.
package requests
