// Package identity normalises and pseudonymises the identifiers that name a
// data subject in events: email addresses, phone numbers, account, customer,
// device, cookie and advertising ids, and ids from external systems.
//
// Normalize turns an identifier value into the one form Custody matches on
// (emails trimmed and lower-cased, phones in E.164, advertising ids as
// lower-case UUIDs, other ids trimmed), so the same person is recognised
// however a service spelled the value. Hasher turns a normalised identifier
// into a keyed hash (HMAC-SHA256): Custody stores and joins on that hash and
// never keeps a raw identifier value in the clear.
//
// Raw values are personal data. Identifier prints (String, every fmt verb,
// slog) only its kind and namespace, and errors from Normalize never echo the
// value. Hasher prints nothing of its key. (slog resolves LogValue only for
// a value itself, not inside a slice: log a []Identifier as strings.)
//
// This package does not decide which identifiers belong to one person (that is
// the lineage and projection layers' job, fed by subject.linked events), and it
// does not guess: a phone number without a country code is rejected, not
// completed.
package identity
