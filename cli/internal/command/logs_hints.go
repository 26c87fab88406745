package command

import "regexp"

// failureHint maps failures to a suggestion: an error type pattern and a
// message pattern, both optional (nil matches anything).
type failureHint struct {
	errorType  *regexp.Regexp
	message    *regexp.Regexp
	suggestion string
}

// hint builds a failureHint; "" means any error type or any message. The
// error type pattern matches the whole type.
func hint(errorType, message, suggestion string) failureHint {
	h := failureHint{suggestion: suggestion}
	if errorType != "" {
		h.errorType = regexp.MustCompile(`^(?:` + errorType + `)$`)
	}
	if message != "" {
		h.message = regexp.MustCompile(message)
	}
	return h
}

// failureHints is the pattern table of logs export. The first hint that
// matches a failure's error type and message gives its suggestion, so
// specific message patterns come before their type's general hint.
var failureHints = []failureHint{
	hint("InputValidationError", "",
		"the input does not match input.schema.json: check the caller or the schema; the problems are in error_details"),
	hint("OutputValidationError", "",
		"the task's return value does not match output.schema.json: fix main.js or the schema; the problems are in error_details"),
	hint("CompileError", "",
		"main.js does not compile or does not yield a function: run `ratchet validate --from-fs <task folder>`"),
	hint("", `(?i)\btask\b.*\b(not found|disabled|does not exist)`,
		"the task is missing or disabled: check `ratchet task list` and registry.sources"),
	hint("TimeoutError", `(?i)fetch|https?://|\b(GET|POST|PUT|PATCH|DELETE|HEAD)\b`,
		"a fetch call timed out: give fetch a `timeout` option (ms) so a slow upstream fails fast, or raise http.timeout; check the upstream"),
	hint("TimeoutError", "",
		"the execution ran out of time: raise the task's `timeout` (metadata.json) or execution.max_execution_duration, "+
			"or make fetch calls with a `timeout` so a slow upstream fails fast instead of using the whole budget"),
	hint("", `(?i)\b429\b|too many requests|rate.?limit`,
		"the upstream is rate limiting: slow down (fewer concurrent jobs, schedules further apart) and retry with backoff "+
			"(max_retries, retry_delay_seconds), honouring Retry-After"),
	hint("RateLimitError", "",
		"the upstream is rate limiting: slow down (fewer concurrent jobs, schedules further apart) and retry with backoff "+
			"(max_retries, retry_delay_seconds), honouring Retry-After"),
	hint("NetworkError|ConfigurationError", `(?i)not allowed|denied|blocked|allowed_hosts|denied_hosts`,
		"fetch refused the host: add it to http.allowed_hosts, or remove it from http.denied_hosts"),
	hint("NetworkError", `(?i)no mock`,
		"in a task test no mock matched the request (the network is off in tests): add a mock for the URL under mock.http"),
	hint("", `(?i)ECONNREFUSED|connection refused`,
		"the upstream is down or not listening on that port: check the URL and the service; retries with backoff carry jobs through a short outage"),
	hint("NetworkError", `(?i)ECONNRESET|connection reset|broken pipe|EOF`,
		"the upstream closed the connection: it may be overloaded or restarting; retries with backoff usually help"),
	hint("NetworkError", `(?i)no such host|ENOTFOUND|name resolution|dns|lookup .*: `,
		"the host name does not resolve: check the URL for a typo, and DNS from the server"),
	hint("NetworkError", `(?i)x509|certificate|tls`,
		"the TLS handshake failed: fix the upstream's certificate (http.verify_ssl: false is for tests only)"),
	hint("NetworkError", "",
		"the request did not reach the upstream: check the URL, the network from the server and the http.* settings"),
	hint("MemoryLimitError", "",
		"the execution ran out of memory: raise execution.memory_limit_mb, or process less data per execution (page through large inputs)"),
	hint("WorkerCrashError", "",
		"the worker process died, most often out of memory: raise execution.memory_limit_mb or process less data per execution; "+
			"the server log has the worker's exit status"),
	hint("AuthenticationError", "",
		"the upstream rejected the credentials (401): check the API key or token the task sends"),
	hint("AuthorizationError", "",
		"the upstream refused access (403): the credentials lack permission for that resource"),
	hint("NotFoundError", "",
		"something was not found (404): check the URL and the ids in the input"),
	hint("ServiceUnavailableError", "",
		"the upstream failed (5xx): it is down or overloaded; retries with backoff usually carry jobs through, check its status"),
	hint("HttpError", "",
		"the upstream answered an HTTP error: the status and the response are in error_details"),
	hint("CancelledError", "",
		"the execution was cancelled, by a user or a server shutdown: nothing to fix unless that was not expected"),
	hint("ConfigurationError", "",
		"the task or the server is misconfigured: read the message, then run `ratchet config validate`"),
	hint("ValidationError", "",
		"main.js rejected its input (a ValidationError it threw): check the caller's data against the task's rules"),
	hint("DataError", "",
		"the data the task received or fetched was not what it expected: check the input and the upstream's response"),
	hint("TypeError|ReferenceError|SyntaxError|RangeError", "",
		"a JavaScript bug in main.js (such as reading a property of undefined): reproduce it with "+
			"`ratchet run-once --from-fs <task folder> --input-json '<the failing input>'`"),
}

// defaultSuggestion is the suggestion when no hint matches.
const defaultSuggestion = "no known pattern: read an execution (`ratchet execution get ID`) and its logs (`ratchet execution logs ID`)"

// suggestFor returns the suggestion of the first hint matching errType and
// message.
func suggestFor(errType, message string) string {
	for _, h := range failureHints {
		if h.errorType != nil && !h.errorType.MatchString(errType) {
			continue
		}
		if h.message != nil && !h.message.MatchString(message) {
			continue
		}
		return h.suggestion
	}
	return defaultSuggestion
}
