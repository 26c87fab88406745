// Package api is Ratchet's REST API contract, shared by the server and its
// clients (SPEC §4.1). This package holds the route table and the documents
// generated from it:
//
//   - Routes lists every documented route (method, path, operation id,
//     success status, list resource); the server registers exactly these
//     and a server test compares its router with them;
//   - OpenAPIJSON and OpenAPIYAML are the OpenAPI 3.0 document, generated
//     in Go from the routes and the wire types, served at
//     /api/v1/openapi.json and /api/v1/openapi.yaml;
//   - ReferenceHTML is a self-contained API reference page rendered from
//     the document, served at /api/v1/docs.
//
// Its sub-packages:
//
//   - apitypes: the request and response types (snake_case JSON), their
//     conversions from core, and the one error envelope with its mapping
//     from any error;
//   - listquery: the Refine simple-rest list query parser (to
//     core.ListQuery) with per-resource allow-lists, and the X-Total-Count
//     and Content-Range headers;
//   - client: the Go client the CLI and third parties use;
//   - openapi: a small typed OpenAPI 3.0 model, a schema generator and a
//     YAML writer.
//
// The module stays light: it depends on core and the standard library
// only (kin-openapi is used by tests), so importing api/client never pulls
// in the server. The GraphQL schema (SDL) is not here yet.
package api
