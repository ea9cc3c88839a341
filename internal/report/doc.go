// Package report makes right-to-know and access reports: what a business
// must tell a person about their personal information under Cal. Civ. Code
// 1798.110, 1798.115 and 1798.130, 11 CCR 7024 and GDPR Art. 15, built
// from the person's projections.Record and rendered as HTML and PDF for
// people and as JSON for portability.
//
// Build turns an Input (the record over the report's window, the taxonomy,
// the request, the retention policy, the time) into a Report: categories
// collected under their exact statutory names (1798.140(v)(1)(A)–(L)) with
// sensitive personal information marked; sources; business and commercial
// purposes in plain language; categories sold or shared with the categories
// of third parties, and apart from them the categories disclosed for a
// business purpose with the categories of recipients, each per category of
// personal information; named recipients with countries; the specific
// pieces, when the request's verification allows them; retention;
// automated decisions with their logic; opt-outs and consents; erasures and
// corrections.
//
// Two rules are enforced here rather than left to renderers: values of
// 11 CCR 7024(d) items (government id and account numbers, passwords,
// security answers, biometric data) never enter a Report — the report says
// "we hold your payment card number" instead — and a request verified only
// to the categories standard gets no specific pieces at all (11 CCR 7024(a),
// 7062). A report's size is bounded by what it holds, not by how values
// are shaped: a value longer than MaxShownValueBytes or nested deeper than
// MaxShownValueDepth is shown in part, as text, with a notice saying so.
//
// The window defaults to the 12 months before the request was received
// (DefaultWindow; under the GDPR, everything from Earliest) and may be
// extended back to 2022-01-01, never earlier (WindowFor). The record must be
// built over exactly that window: the report shows nothing the window does
// not contain.
//
// WriteJSON, WriteHTML and WritePDF render a Report; every list is sorted,
// so the same facts give the same bytes. The JSON follows
// schema/reports/right-to-know.v1.schema.json (SchemaID).
//
// What it is not: it reads no events, stores nothing and reads no clock;
// finding the person, decrypting values, storing the generated file and
// serving downloads belong to the callers. It does not decide whether a
// request may be answered: package requests does, and Build only refuses a
// request that is not verified or not a request to know or for access.
package report
