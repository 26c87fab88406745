// Package middleware holds the Echo middleware of Ratchet's HTTP server
// (SPEC §4.1): request id, panic recovery, access log and HTTP metrics,
// CORS, request body limits, per-client token-bucket rate limiting and
// API-key authentication with roles.
//
// Every middleware reports a failure by returning a *core.Error (or an
// error wrapping one); the server's single HTTPErrorHandler turns it into
// the error envelope. The server installs them in this order, outermost
// first:
//
//	RequestID → Observe (access log, metrics; renders errors) → Recover →
//	CORS → BodyLimit → Auth.Authenticate → RateLimiter → Auth.Authorize
//
// Authentication runs before rate limiting so that a valid key gets its
// own bucket while requests without a valid key (missing, wrong) are
// limited per client IP, and a flood of wrong keys cannot open fresh
// buckets; authorization (the 401 and 403 answers) runs after it so that
// failed attempts count against the IP's bucket.
package middleware
