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
