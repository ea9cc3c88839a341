// Package graphql is Custody's GraphQL API for privacy teams: a person's
// record with their event timeline, right-to-know reports, lineage, the
// data map and recipients, the poison queue, the access log, and the
// rights-request queue with its mutations.
//
// The schema comes first: schema/graphql/*.graphqls is the contract, and
// gqlgen generates the executable schema (generated/) and the schema's own
// types (model/models_gen.go) from it; `go generate ./internal/graphql/...`
// regenerates them. The resolvers here only translate between the schema
// and the application services of ports.go (inventory, audit, rejected,
// rights), which do the work on real storage.
//
// Least exposure: values of data elements whose category the taxonomy
// marks never-disclose (11 CCR 7024(d): card and account numbers,
// government and health insurance ids, passwords, security answers,
// authentication secrets, biometrics) are masked in every read, whoever
// reads — an identifying number shows at most its last four characters
// ("•••• 1111"), anything else "••••", and a value of a category the
// taxonomy does not know is masked too. One function (exposure.maskValue,
// mask.go) decides, and a person's record leaves the read side only
// through it: Subject.elements.value and the element values in
// Event.data. Lineage and the data map carry no values; reports withhold
// never-disclose values themselves. An admin sees one value in clear only
// with the revealValue mutation and a stated purpose, recorded in the
// person's access log (purpose, and what was revealed — never the value)
// before it is answered.
//
// Around the resolvers, Handler adds what a production API needs: bearer
// tokens (analyst and admin may query, mutations need admin, publishers are
// refused), an access-log entry for every read of a person's data before
// it is answered, explicit transports (POST JSON; GET for queries only),
// complexity and depth limits, introspection and GraphiQL only in dev
// mode, a per-request timeout, recovery from panics, an error presenter
// that never shows internal errors (SQL, stack traces) and gives each error
// a stable extensions.code (OVERLOADED, with a Retry-After header, for a
// read of personal data the read side's admission refused), per-request
// loaders that batch and share reads, and Prometheus metrics per
// operation.
package graphql
