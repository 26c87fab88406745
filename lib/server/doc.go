// Package server is Ratchet's HTTP server (SPEC §4.1): an Echo instance
// with the middleware of package middleware, the single error handler
// that answers every error with the API's error envelope, a JSON body
// decoder with a nesting limit, and the routes that are not REST
// resources: the health, readiness, version and metrics endpoints, the
// OpenAPI document and reference page, and the debug endpoints.
//
// The REST resource handlers, GraphQL and its playground are mounted on
// the server after New, through Echo and API, before Start.
//
// Routes and access (see middleware.PublicRoutes and
// middleware.RequiredRole):
//
//	GET /health, /health/detailed, /ready, /version, /metrics     public, not rate-limited
//	GET /api/v1/openapi.json, /api/v1/openapi.yaml, /api/v1/docs  public
//	/debug/... (development.enable_debug_endpoints only)          admin
//	/api/v1/... resources                                         viewer reads, operator writes
package server
