package config_test

import (
	"strings"
	"testing"

	"github.com/ratchet-go/ratchet/config"
)

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, key, reason string
	}{
		{"port range", "server: {port: 0}", "server.port", "between 1 and 65535"},
		{"open bind without auth", "server: {bind_address: 0.0.0.0}", "server.bind_address", "allow_unauthenticated"},
		{"bind address with port", "server: {bind_address: '127.0.0.1:80'}", "server.bind_address", "IP address or a host name"},
		{"mysql url", "server: {database: {url: 'mysql://u:p@h/db'}}", "server.database.url", "sqlite://PATH, sqlite::memory:, postgres://"},
		{"bare path url", "server: {database: {url: ratchet.db}}", "server.database.url", "must be sqlite://"},
		{"empty sqlite path", "server: {database: {url: 'sqlite://'}}", "server.database.url", "path is empty"},
		{"postgres without host", "server: {database: {url: 'postgres:///db'}}", "server.database.url", "host is empty"},
		{"max connections", "server: {database: {max_connections: 0}}", "server.database.max_connections", "at least 1"},
		{"negative workers", "server: {workers: {worker_count: -1}}", "server.workers.worker_count", "at least 0"},
		{"health check interval", "server: {workers: {health_check_interval_seconds: 0}}", "server.workers.health_check_interval_seconds", "at least 1"},
		{"queue size", "server: {job_queue: {max_queue_size: 0}}", "server.job_queue.max_queue_size", "at least 1"},
		{"retry delay", "server: {job_queue: {default_retry_delay: 0s}}", "server.job_queue.default_retry_delay", "positive duration"},
		{"profile enum", "server: {rate_limit: {profile: lenient}}", "server.rate_limit.profile", "one of default, permissive, strict"},
		{"burst", "server: {rate_limit: {burst_size: 0}}", "server.rate_limit.burst_size", "at least 1"},
		{"cors credentials with *", "server: {cors: {allow_credentials: true}}", "server.cors.allow_credentials", "must be false"},
		{"cors method", "server: {cors: {allowed_methods: ['GE T']}}", "server.cors.allowed_methods[0]", "HTTP method"},
		{"api key empty", "server: {auth: {api_keys: [{name: a}]}}", "server.auth.api_keys[0].key", "must not be empty"},
		{"api key role", "server: {auth: {api_keys: [{name: a, key: k, role: god}]}}", "server.auth.api_keys[0].role", "one of admin, operator, viewer"},
		{"api key duplicate name", "server: {auth: {api_keys: [{name: a, key: k1}, {name: a, key: k2}]}}", "server.auth.api_keys[1].name", "unique"},
		{"execution duration", "execution: {max_execution_duration: -1}", "execution.max_execution_duration", "positive duration"},
		{"memory limit", "execution: {memory_limit_mb: -5}", "execution.memory_limit_mb", "0 means no limit"},
		{"redirects", "http: {max_redirects: -1}", "http.max_redirects", "at least 0"},
		{"host with scheme", "http: {allowed_hosts: ['https://x.example']}", "http.allowed_hosts[0]", "no scheme"},
		{"user agent", "http: {user_agent: ''}", "http.user_agent", "must not be empty"},
		{"cache size", "cache: {task_content_cache_size: 0}", "cache.task_content_cache_size", "at least 1"},
		{"log level", "logging: {level: verbose}", "logging.level", "one of debug, info, warn, error"},
		{"log format", "logging: {format: xml}", "logging.format", "one of text, json"},
		{"log file", "logging: {log_to_file: true, log_file_path: ''}", "logging.log_file_path", "log_to_file"},
		{"rotation", "logging: {file_rotation: {max_size_mb: 0}}", "logging.file_rotation.max_size_mb", "at least 1"},
		{"deliveries", "output: {max_concurrent_deliveries: 0}", "output.max_concurrent_deliveries", "at least 1"},
		{"retry multiplier", "output: {default_retry_policy: {backoff_multiplier: 0.5}}", "output.default_retry_policy.backoff_multiplier", "between 1 and 100"},
		{"retry max delay", "output: {default_retry_policy: {max_delay_ms: 10}}", "output.default_retry_policy.max_delay_ms", "at least initial_delay_ms"},
		{"destination type", "output: {global_destinations: [{type: s3}]}", "output.global_destinations[0].type", "one of filesystem, webhook"},
		{"destination format", "output: {global_destinations: [{type: filesystem, path: /x, format: xml}]}", "output.global_destinations[0].format", "one of json, json_compact, yaml, csv, raw"},
		{"destination path", "output: {global_destinations: [{type: filesystem}]}", "output.global_destinations[0].path", "must not be empty"},
		{"destination permissions", "output: {global_destinations: [{type: filesystem, path: /x, permissions: '1777'}]}", "output.global_destinations[0].permissions", "between 0001 and 0777"},
		{"webhook url", "output: {global_destinations: [{type: webhook, url: 'ftp://x'}]}", "output.global_destinations[0].url", "http:// or https://"},
		{"webhook method", "output: {global_destinations: [{type: webhook, url: 'https://x.example', method: GET}]}", "output.global_destinations[0].method", "one of POST, PUT, PATCH"},
		{"auth type", "output: {global_destinations: [{type: webhook, url: 'https://x.example', auth: {type: oauth}}]}", "output.global_destinations[0].auth.type", "one of bearer, basic, api_key"},
		{"basic auth user", "output: {global_destinations: [{type: webhook, url: 'https://x.example', auth: {type: basic}}]}", "output.global_destinations[0].auth.username", "basic auth"},
		{"signature secret", "output: {global_destinations: [{type: webhook, url: 'https://x.example', signature: {header: X-Sig}}]}", "output.global_destinations[0].signature.secret", "must not be empty"},
		{"webhook retry", "output: {global_destinations: [{type: webhook, url: 'https://x.example', retry_policy: {max_attempts: 0, max_delay_ms: 1}}]}", "output.global_destinations[0].retry_policy.max_attempts", "at least 1"},
		{"registry uri", "registry: {sources: [{name: a}]}", "registry.sources[0].uri", "must not be empty"},
		{"registry duplicate", "registry: {sources: [{name: a, uri: x}, {name: a, uri: y}]}", "registry.sources[1].name", "unique"},
		{"registry pattern", "registry: {sources: [{uri: x, config: {ignore_patterns: ['[']}}]}", "registry.sources[0].config.ignore_patterns[0]", "glob"},
		{"plugins dir", "plugins: {enabled: true, dir: ''}", "plugins.dir", "plugins.enabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, tc.yaml+"\n", nil)
			if err == nil {
				t.Fatal("no error")
			}
			fe := findFieldError(t, err, tc.key)
			if !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("reason %q does not contain %q", fe.Reason, tc.reason)
			}
			if !strings.Contains(err.Error(), tc.key+": invalid value ") {
				t.Fatalf("message does not name the key and value: %v", err)
			}
		})
	}
}

func TestValidValues(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml string }{
		{"sqlite memory", "server: {database: {url: 'sqlite::memory:'}}"},
		{"postgres", "server: {database: {url: 'postgres://u:p@localhost:5432/db?sslmode=disable'}}"},
		{"postgresql", "server: {database: {url: 'postgresql://localhost/db'}}"},
		{"open bind with auth", "server: {bind_address: 0.0.0.0, auth: {enabled: true}}"},
		{"open bind opted out", "server: {bind_address: '::', auth: {allow_unauthenticated: true}}"},
		{"ipv6 loopback", "server: {bind_address: '::1'}"},
		{"localhost", "server: {bind_address: localhost}"},
		{"no memory limit", "execution: {memory_limit_mb: 0}"},
		{"wildcard host", "http: {denied_hosts: ['*.evil.example', '10.0.0.1', 'metadata:80']}"},
		{"enum case", "logging: {level: DEBUG, format: Json}"},
		{"webhook basic", "output: {global_destinations: [{type: webhook, url: 'http://x.example/h', method: put, auth: {type: basic, username: u}}]}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mustLoad(t, tc.yaml+"\n", nil)
		})
	}
}

func TestValidateInCode(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.Server.Port = -1
	c.Logging.Format = "xml"
	err := c.Validate()
	keys := map[string]bool{}
	for _, fe := range fieldErrors(t, err) {
		keys[fe.Key] = true
	}
	if !keys["server.port"] || !keys["logging.format"] || len(keys) != 2 {
		t.Fatalf("got %v", err)
	}
}

func TestDestinationValidate(t *testing.T) {
	t.Parallel()
	d := config.Destination{Type: config.DestinationWebhook, URL: "https://x.example", Auth: &config.WebhookAuth{Type: config.AuthAPIKey, Key: "k"}}
	d.SetDefaults(nil)
	if err := d.Validate(); err != nil {
		t.Fatalf("valid destination: %v", err)
	}
	if d.Auth.Header != config.DefaultAPIKeyHeader || d.Timeout <= 0 || d.RetryPolicy == nil {
		t.Fatalf("SetDefaults: %+v", d)
	}
	bad := config.Destination{Type: config.DestinationFilesystem}
	bad.SetDefaults(nil)
	fe := findFieldError(t, bad.Validate(), "path")
	if fe.Reason == "" {
		t.Fatal("no reason")
	}
}
