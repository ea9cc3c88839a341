package graphql

// The executable schema (generated/) and the schema's own types
// (model/models_gen.go) are generated from schema/graphql/*.graphqls by
// gqlgen, pinned in go.mod as a tool. Never edit them by hand.
//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml
