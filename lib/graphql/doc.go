// Package graphql serves Ratchet's GraphQL API (SPEC §4.2) with
// graph-gophers/graphql-go: queries and mutations over the typed service
// API (lib/service) at POST and GET /graphql, subscriptions over WebSocket
// at /graphql (the graphql-transport-ws protocol, graph-gophers/
// graphql-transport-ws), and the GraphiQL playground at /playground, served
// from files embedded in the binary.
//
// The schema is the SDL of api/graphql. Enum values are the REST API's
// lowercase values in UPPER_CASE; DateTime is RFC 3339 in UTC; JSON is any
// JSON value. Every error a client sees passes through one presenter
// (present), which maps core error kinds to extensions {type, code,
// statusCode, details} exactly as the REST error envelope does.
//
// Limits: query depth (MaxDepth), selections after fragment expansion
// (MaxSelections), resolvers run in parallel (MaxParallelism), query length,
// and a complexity budget: every list charges its page size, every lookup
// one, against Options.MaxComplexity per operation. Introspection can be
// switched off. Mutations need the operator role (apikey.Principal in the
// request's context); a viewer may only query.
//
// Mount everything with Register.
package graphql
