package config

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Validate checks every value and returns a *ValidationError listing all problems, or nil.
// Load calls it; call it yourself on a Config built in code. It expects canonical spellings
// (lower-case enums, upper-case methods), which Load produces.
func (c *Config) Validate() error {
	var p problems
	c.validate(&p)
	return p.err()
}

func (c *Config) validate(p *problems) {
	c.Server.validate(p)

	e := c.Execution
	positiveDuration(p, "execution.max_execution_duration", e.MaxExecutionDuration)
	atLeast(p, "execution.memory_limit_mb", e.MemoryLimitMB, 0, " (0 means no limit)")
	atLeast(p, "execution.max_input_bytes", e.MaxInputBytes, 1, "")
	atLeast(p, "execution.max_output_bytes", e.MaxOutputBytes, 1, "")

	h := c.HTTP
	positiveDuration(p, "http.timeout", h.Timeout)
	atLeast(p, "http.max_redirects", h.MaxRedirects, 0, "")
	if strings.TrimSpace(h.UserAgent) == "" {
		p.add("http.user_agent", h.UserAgent, "must not be empty")
	}
	positiveDuration(p, "http.cache_ttl", h.CacheTTL)
	hostList(p, "http.allowed_hosts", h.AllowedHosts)
	hostList(p, "http.denied_hosts", h.DeniedHosts)

	atLeast(p, "cache.task_content_cache_size", c.Cache.TaskContentCacheSize, 1, "")

	lg := c.Logging
	oneOf(p, "logging.level", lg.Level, LogLevelDebug, LogLevelInfo, LogLevelWarn, LogLevelError)
	oneOf(p, "logging.format", lg.Format, LogFormatText, LogFormatJSON)
	if lg.LogToFile && strings.TrimSpace(lg.LogFilePath) == "" {
		p.add("logging.log_file_path", lg.LogFilePath, "must not be empty when logging.log_to_file is true")
	}
	atLeast(p, "logging.file_rotation.max_size_mb", lg.FileRotation.MaxSizeMB, 1, "")
	atLeast(p, "logging.file_rotation.max_files", lg.FileRotation.MaxFiles, 1, "")

	o := c.Output
	atLeast(p, "output.max_concurrent_deliveries", o.MaxConcurrentDeliveries, 1, "")
	positiveDuration(p, "output.default_timeout", o.DefaultTimeout)
	o.DefaultRetryPolicy.validate(p, "output.default_retry_policy")
	for i, d := range o.GlobalDestinations {
		d.validate(p, fmt.Sprintf("output.global_destinations[%d]", i))
	}

	names := map[string]int{}
	for i, s := range c.Registry.Sources {
		key := fmt.Sprintf("registry.sources[%d]", i)
		if strings.TrimSpace(s.URI) == "" {
			p.add(key+".uri", s.URI, "must not be empty: give a file:// URI or a path to a task, a folder of tasks or a zip")
		}
		if s.Name != "" {
			if j, dup := names[s.Name]; dup {
				p.add(key+".name", s.Name, fmt.Sprintf("must be unique (registry.sources[%d] has it too)", j))
			}
			names[s.Name] = i
		}
		atLeast(p, key+".config.debounce_ms", s.Config.DebounceMS, 0, "")
		for j, pat := range s.Config.IgnorePatterns {
			if _, err := path.Match(pat, ""); err != nil || pat == "" {
				p.add(fmt.Sprintf("%s.config.ignore_patterns[%d]", key, j), pat, "must be a glob pattern such as *.tmp")
			}
		}
	}

	if c.Plugins.Enabled && strings.TrimSpace(c.Plugins.Dir) == "" {
		p.add("plugins.dir", c.Plugins.Dir, "must not be empty when plugins.enabled is true")
	}
}

func (s *ServerConfig) validate(p *problems) {
	if !validHost(s.BindAddress, false) {
		p.add("server.bind_address", s.BindAddress, "must be an IP address or a host name")
	} else if !isLoopback(s.BindAddress) && !s.Auth.Enabled && !s.Auth.AllowUnauthenticated {
		p.add("server.bind_address", s.BindAddress,
			"a non-loopback address needs server.auth.enabled: true, or server.auth.allow_unauthenticated: true to serve without authentication")
	}
	if s.Port < 1 || s.Port > 65535 {
		p.add("server.port", s.Port, "must be an integer between 1 and 65535")
	}

	db := s.Database
	if reason := checkDatabaseURL(db.URL); reason != "" {
		p.add("server.database.url", db.URL, reason)
	}
	atLeast(p, "server.database.max_connections", db.MaxConnections, 1, "")
	positiveDuration(p, "server.database.connection_timeout", db.ConnectionTimeout)

	w := s.Workers
	atLeast(p, "server.workers.worker_count", w.WorkerCount, 0, " (0 means one per CPU)")
	atLeast(p, "server.workers.max_restart_attempts", w.MaxRestartAttempts, 0, "")
	atLeast(p, "server.workers.restart_delay_seconds", w.RestartDelaySeconds, 0, "")
	atLeast(p, "server.workers.health_check_interval_seconds", w.HealthCheckIntervalSeconds, 1, "")

	q := s.JobQueue
	atLeast(p, "server.job_queue.max_dequeue_batch_size", q.MaxDequeueBatchSize, 1, "")
	atLeast(p, "server.job_queue.max_queue_size", q.MaxQueueSize, 1, "")
	positiveDuration(p, "server.job_queue.default_retry_delay", q.DefaultRetryDelay)
	atLeast(p, "server.job_queue.default_max_retries", q.DefaultMaxRetries, 0, "")

	r := s.RateLimit
	atLeast(p, "server.rate_limit.requests_per_minute", r.RequestsPerMinute, 1, "")
	atLeast(p, "server.rate_limit.burst_size", r.BurstSize, 1, "")
	oneOf(p, "server.rate_limit.profile", r.Profile, RateLimitProfileDefault, RateLimitProfilePermissive, RateLimitProfileStrict)

	cors := s.CORS
	for i, o := range cors.AllowedOrigins {
		if o = strings.TrimSpace(o); o == "" || strings.ContainsAny(o, " \t") {
			p.add(fmt.Sprintf("server.cors.allowed_origins[%d]", i), o, `must be "*" or an origin such as https://app.example.com`)
		}
		if o == "*" && cors.AllowCredentials {
			p.add("server.cors.allow_credentials", true, `must be false when server.cors.allowed_origins contains "*" (browsers reject credentials with a wildcard origin)`)
		}
	}
	for i, m := range cors.AllowedMethods {
		if !isToken(m) {
			p.add(fmt.Sprintf("server.cors.allowed_methods[%d]", i), m, "must be an HTTP method such as GET")
		}
	}
	for i, h := range cors.AllowedHeaders {
		if !isToken(h) && h != "*" {
			p.add(fmt.Sprintf("server.cors.allowed_headers[%d]", i), h, "must be a header name")
		}
	}
	for i, h := range cors.ExposeHeaders {
		if !isToken(h) && h != "*" {
			p.add(fmt.Sprintf("server.cors.expose_headers[%d]", i), h, "must be a header name")
		}
	}
	if cors.MaxAge < 0 {
		p.add("server.cors.max_age", formatDuration(cors.MaxAge), "must not be negative")
	}

	names, keys := map[string]int{}, map[string]int{}
	for i, k := range s.Auth.APIKeys {
		key := fmt.Sprintf("server.auth.api_keys[%d]", i)
		if strings.TrimSpace(k.Name) == "" {
			p.add(key+".name", k.Name, "must not be empty")
		} else if j, dup := names[k.Name]; dup {
			p.add(key+".name", k.Name, fmt.Sprintf("must be unique (server.auth.api_keys[%d] has it too)", j))
		}
		names[k.Name] = i
		if strings.TrimSpace(k.Key) == "" {
			p.add(key+".key", k.Key, "must not be empty")
		} else if j, dup := keys[k.Key]; dup {
			p.add(key+".key", k.Key, fmt.Sprintf("must be unique (server.auth.api_keys[%d] has the same key)", j))
		}
		keys[k.Key] = i
		oneOf(p, key+".role", k.Role, RoleAdmin, RoleOperator, RoleViewer)
	}
}

func (r RetryPolicy) validate(p *problems, key string) {
	atLeast(p, key+".max_attempts", r.MaxAttempts, 1, "")
	atLeast(p, key+".initial_delay_ms", r.InitialDelayMS, 0, "")
	if r.MaxDelayMS < r.InitialDelayMS {
		p.add(key+".max_delay_ms", r.MaxDelayMS, fmt.Sprintf("must be at least initial_delay_ms (%d)", r.InitialDelayMS))
	}
	if !(r.BackoffMultiplier >= 1) || r.BackoffMultiplier > 100 {
		p.add(key+".backoff_multiplier", r.BackoffMultiplier, "must be a number between 1 and 100")
	}
}

// Validate checks one destination, for destinations that do not come from the configuration
// (a job's output_destinations). Keys in the error are relative to the destination. Call
// SetDefaults first.
func (d *Destination) Validate() error {
	var p problems
	d.validate(&p, "")
	for _, fe := range p.list {
		fe.Key = strings.TrimPrefix(fe.Key, ".")
	}
	return p.err()
}

func (d *Destination) validate(p *problems, key string) {
	switch d.Type {
	case DestinationFilesystem:
		if strings.TrimSpace(d.Path) == "" {
			p.add(key+".path", d.Path, "must not be empty for a filesystem destination")
		}
		oneOf(p, key+".format", d.Format, FormatJSON, FormatJSONCompact, FormatYAML, FormatCSV, FormatRaw)
		if d.Permissions == 0 || d.Permissions > 0o777 {
			p.add(key+".permissions", fileModeString(d.Permissions), "must be an octal file mode between 0001 and 0777, such as 0644")
		}
	case DestinationWebhook:
		u, err := url.Parse(d.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add(key+".url", d.URL, "must be an http:// or https:// URL")
		}
		oneOf(p, key+".method", d.Method, "POST", "PUT", "PATCH")
		for name := range d.Headers {
			if !isToken(name) {
				p.add(key+".headers", name, "header names must be HTTP tokens such as X-Api-Key")
			}
		}
		if a := d.Auth; a != nil {
			ak := key + ".auth"
			switch a.Type {
			case AuthBearer:
				nonEmpty(p, ak+".token", a.Token, "for bearer auth")
			case AuthBasic:
				nonEmpty(p, ak+".username", a.Username, "for basic auth")
			case AuthAPIKey:
				nonEmpty(p, ak+".key", a.Key, "for api_key auth")
				if !isToken(a.Header) {
					p.add(ak+".header", a.Header, "must be a header name")
				}
			default:
				oneOf(p, ak+".type", a.Type, AuthBearer, AuthBasic, AuthAPIKey)
			}
		}
		if s := d.Signature; s != nil {
			nonEmpty(p, key+".signature.secret", s.Secret, "for a signature")
			if !isToken(s.Header) {
				p.add(key+".signature.header", s.Header, "must be a header name")
			}
		}
		positiveDuration(p, key+".timeout", d.Timeout)
		if d.RetryPolicy != nil {
			d.RetryPolicy.validate(p, key+".retry_policy")
		}
	default:
		oneOf(p, key+".type", d.Type, DestinationFilesystem, DestinationWebhook)
	}
}

// checkDatabaseURL returns why u is not a usable database URL, or "".
func checkDatabaseURL(u string) string {
	const allowed = "must be sqlite://PATH, sqlite::memory:, postgres://... or postgresql://..."
	switch {
	case u == "sqlite::memory:":
		return ""
	case strings.HasPrefix(u, "sqlite://"):
		if strings.TrimPrefix(u, "sqlite://") == "" {
			return allowed + " (the sqlite path is empty)"
		}
		return ""
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		pu, err := url.Parse(u)
		if err != nil {
			return allowed + " (" + strings.TrimPrefix(err.Error(), "parse ") + ")"
		}
		if pu.Host == "" && pu.Query().Get("host") == "" {
			return allowed + " (the host is empty)"
		}
		return ""
	}
	return allowed
}

func atLeast(p *problems, key string, v, lo int, note string) {
	if v < lo {
		p.add(key, v, fmt.Sprintf("must be an integer of at least %d%s", lo, note))
	}
}

func positiveDuration(p *problems, key string, d time.Duration) {
	if d <= 0 {
		p.add(key, formatDuration(d), "must be a positive duration such as 30s or 5m, or a whole number of seconds")
	}
}

func oneOf(p *problems, key, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.add(key, v, "must be one of "+strings.Join(allowed, ", "))
}

func nonEmpty(p *problems, key, v, what string) {
	if strings.TrimSpace(v) == "" {
		p.add(key, v, "must not be empty "+what)
	}
}

func hostList(p *problems, key string, hosts []string) {
	for i, h := range hosts {
		if strings.HasPrefix(h, "*.") {
			h = h[2:]
		}
		if !validHost(h, true) {
			p.add(key+"["+strconv.Itoa(i)+"]", hosts[i], "must be a host name such as api.example.com or *.example.com (no scheme or path)")
		}
	}
}

// validHost accepts an IP address or a DNS name, with a port when withPort is true.
func validHost(h string, withPort bool) bool {
	if host, port, err := net.SplitHostPort(h); err == nil {
		if !withPort {
			return false
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
		h = host
	}
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

func isLoopback(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// isToken reports whether s is an HTTP token (RFC 9110), the syntax of methods and header names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 126 || r <= 32 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
