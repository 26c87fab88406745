// Package graphql holds the GraphQL schema (SDL) of Ratchet's API
// (SPEC §4.2). The server (lib/graphql) serves it at /graphql; clients and
// tools may read it from here without importing the server.
package graphql

import _ "embed"

// SDL is the GraphQL schema in the schema definition language.
//
//go:embed schema.graphql
var SDL string
