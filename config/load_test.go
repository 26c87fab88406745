package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, "", nil)
	if !reflect.DeepEqual(c, config.Default()) {
		t.Fatalf("Load without file or environment differs from Default():\n got %+v\nwant %+v", c, config.Default())
	}
	if err := config.Default().Validate(); err != nil {
		t.Fatalf("Default() is invalid: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"server.bind_address", c.Server.BindAddress, "127.0.0.1"},
		{"server.port", c.Server.Port, 8080},
		{"server.database.url", c.Server.Database.URL, "sqlite://ratchet.db"},
		{"server.database.connection_timeout", c.Server.Database.ConnectionTimeout, 30 * time.Second},
		{"server.workers.worker_count", c.Server.Workers.WorkerCount, runtime.NumCPU()},
		{"server.workers.restart_on_crash", c.Server.Workers.RestartOnCrash, true},
		{"server.job_queue.max_queue_size", c.Server.JobQueue.MaxQueueSize, 100000},
		{"server.job_queue.default_retry_delay", c.Server.JobQueue.DefaultRetryDelay, 60 * time.Second},
		{"server.rate_limit.profile", c.Server.RateLimit.Profile, "default"},
		{"server.cors.allowed_origins", c.Server.CORS.AllowedOrigins, []string{"*"}},
		{"server.auth.enabled", c.Server.Auth.Enabled, false},
		{"execution.max_execution_duration", c.Execution.MaxExecutionDuration, 300 * time.Second},
		{"execution.memory_limit_mb", c.Execution.MemoryLimitMB, 512},
		{"http.user_agent", c.HTTP.UserAgent, "Ratchet/1.0"},
		{"http.cache_ttl", c.HTTP.CacheTTL, 5 * time.Minute},
		{"cache.task_content_cache_size", c.Cache.TaskContentCacheSize, 100},
		{"logging.level", c.Logging.Level, "info"},
		{"logging.file_rotation.max_size_mb", c.Logging.FileRotation.MaxSizeMB, 100},
		{"output.default_retry_policy.backoff_multiplier", c.Output.DefaultRetryPolicy.BackoffMultiplier, 2.0},
		{"development.enable_debug_endpoints", c.Development.EnableDebugEndpoints, false},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestDefaultIsFresh(t *testing.T) {
	t.Parallel()
	a := config.Default()
	a.Server.CORS.AllowedOrigins[0] = "changed"
	if config.Default().Server.CORS.AllowedOrigins[0] != "*" {
		t.Fatal("Default() shares slices between calls")
	}
}

const fullYAML = `
server:
  bind_address: 0.0.0.0
  port: 9000
  database:
    url: postgres://ratchet:pw@db:5432/ratchet
    max_connections: 20
    connection_timeout: 5          # integer seconds
  workers:
    worker_count: 3
    restart_on_crash: false
  job_queue:
    default_retry_delay: 2m
  rate_limit:
    profile: Strict                # enums are case-insensitive
  cors:
    allowed_origins: [https://app.example.com]
    allow_credentials: true
    max_age: 600
  auth:
    enabled: true
    api_keys:
      - name: ci
        key: key-ci-0123456789
      - name: root
        key: key-root-0123456789
        role: admin
execution:
  max_execution_duration: 1m30s
  validate_schemas: false
http:
  timeout: 10s
  allowed_hosts: [api.example.com, "*.internal.example.com"]
logging:
  level: warning
  format: JSON
  log_to_file: true
  log_file_path: /var/log/ratchet.log
output:
  default_timeout: 12s
  global_destinations:
    - type: filesystem
      path: /tmp/out/{{task_name}}_{{job_uuid}}.json
      permissions: 0600
    - type: webhook
      url: https://hooks.example.com/x
      headers: {X-Source: ratchet}
      auth: {type: api_key, key: k123}
      signature: {secret: s3cret}
registry:
  sources:
    - name: local
      uri: file://./tasks
      config: {watch: true, ignore_patterns: ["*.tmp"]}
    - uri: ./more
      config: {debounce_ms: 0}
plugins:
  enabled: true
  dir: /opt/ratchet/plugins
development:
  enable_debug_endpoints: true
`

func TestLoadFile(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, fullYAML, nil)

	checks := []struct {
		name      string
		got, want any
	}{
		{"bind_address", c.Server.BindAddress, "0.0.0.0"},
		{"port", c.Server.Port, 9000},
		{"database.url", c.Server.Database.URL, "postgres://ratchet:pw@db:5432/ratchet"},
		{"max_connections", c.Server.Database.MaxConnections, 20},
		{"connection_timeout (int seconds)", c.Server.Database.ConnectionTimeout, 5 * time.Second},
		{"worker_count", c.Server.Workers.WorkerCount, 3},
		{"restart_on_crash", c.Server.Workers.RestartOnCrash, false},
		{"max_restart_attempts (default kept)", c.Server.Workers.MaxRestartAttempts, 5},
		{"default_retry_delay", c.Server.JobQueue.DefaultRetryDelay, 2 * time.Minute},
		{"profile canonical", c.Server.RateLimit.Profile, "strict"},
		{"allowed_origins", c.Server.CORS.AllowedOrigins, []string{"https://app.example.com"}},
		{"max_age", c.Server.CORS.MaxAge, 10 * time.Minute},
		{"api key default role", c.Server.Auth.APIKeys[0].Role, config.RoleOperator},
		{"api key role", c.Server.Auth.APIKeys[1].Role, config.RoleAdmin},
		{"max_execution_duration", c.Execution.MaxExecutionDuration, 90 * time.Second},
		{"validate_schemas", c.Execution.ValidateSchemas, false},
		{"http.timeout", c.HTTP.Timeout, 10 * time.Second},
		{"allowed_hosts", c.HTTP.AllowedHosts, []string{"api.example.com", "*.internal.example.com"}},
		{"level warning is warn", c.Logging.Level, "warn"},
		{"format canonical", c.Logging.Format, "json"},
		{"log_file_path", c.Logging.LogFilePath, "/var/log/ratchet.log"},
		{"plugins.dir", c.Plugins.Dir, "/opt/ratchet/plugins"},
		{"debug endpoints", c.Development.EnableDebugEndpoints, true},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}

	fs := c.Output.GlobalDestinations[0]
	if fs.Format != "json" || fs.Permissions != 0o600 || !fs.CreateDirs || fs.Overwrite {
		t.Errorf("filesystem destination defaults: %+v", fs)
	}
	wh := c.Output.GlobalDestinations[1]
	if wh.Method != "POST" || wh.Timeout != 12*time.Second {
		t.Errorf("webhook method/timeout defaults: %+v", wh)
	}
	if wh.RetryPolicy == nil || *wh.RetryPolicy != config.DefaultRetryPolicy() {
		t.Errorf("webhook retry policy = %+v, want the default", wh.RetryPolicy)
	}
	if wh.Auth.Header != config.DefaultAPIKeyHeader || wh.Signature.Header != config.DefaultSignatureHeader {
		t.Errorf("webhook header defaults: auth %+v signature %+v", wh.Auth, wh.Signature)
	}
	// viper lower-cases keys, header names included (they are case-insensitive in HTTP).
	if wh.Headers["x-source"] != "ratchet" {
		t.Errorf("headers = %v", wh.Headers)
	}

	src := c.Registry.Sources
	if src[0].Config.DebounceMS != 500 || !src[0].Config.Watch || src[0].Config.IgnorePatterns[0] != "*.tmp" {
		t.Errorf("source 0 = %+v", src[0])
	}
	if src[1].Config.DebounceMS != 0 {
		t.Errorf("an explicit debounce_ms: 0 was replaced by the default: %+v", src[1])
	}
}

func TestEnvShortcuts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  string
		val  string
		get  func(*config.Config) any
		want any
	}{
		{"RATCHET_DATABASE_URL", "postgres://u@h/db", func(c *config.Config) any { return c.Server.Database.URL }, "postgres://u@h/db"},
		{"RATCHET_SERVER_PORT", "9191", func(c *config.Config) any { return c.Server.Port }, 9191},
		{"RATCHET_LOG_LEVEL", "debug", func(c *config.Config) any { return c.Logging.Level }, "debug"},
		{"RATCHET_HTTP_TIMEOUT", "7", func(c *config.Config) any { return c.HTTP.Timeout }, 7 * time.Second},
		{"RATCHET_HTTP_TIMEOUT", "250ms", func(c *config.Config) any { return c.HTTP.Timeout }, 250 * time.Millisecond},
		{"RATCHET_CACHE_SIZE", "42", func(c *config.Config) any { return c.Cache.TaskContentCacheSize }, 42},
		{"RATCHET_RATE_LIMIT_REQUESTS_PER_MINUTE", "600", func(c *config.Config) any { return c.Server.RateLimit.RequestsPerMinute }, 600},
	}
	for _, tc := range tests {
		t.Run(tc.env+"="+tc.val, func(t *testing.T) {
			t.Parallel()
			// The file says otherwise: the environment wins.
			c := mustLoad(t, "server: {port: 1234}\nlogging: {level: error}\ncache: {task_content_cache_size: 5}\n",
				map[string]string{tc.env: tc.val})
			if got := tc.get(c); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s=%s: got %v, want %v", tc.env, tc.val, got, tc.want)
			}
		})
	}
}

func TestEnvCanonicalBeatsShortcut(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, "", map[string]string{
		"RATCHET_DATABASE_URL":        "sqlite://short.db",
		"RATCHET_SERVER_DATABASE_URL": "sqlite://canonical.db",
		"RATCHET_LOG_LEVEL":           "debug",
		"RATCHET_LOGGING_LEVEL":       "error",
	})
	if c.Server.Database.URL != "sqlite://canonical.db" || c.Logging.Level != "error" {
		t.Fatalf("got url %q level %q", c.Server.Database.URL, c.Logging.Level)
	}
}

func TestEnvNested(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		get  func(*config.Config) any
		want any
	}{
		{"database url", map[string]string{"RATCHET_SERVER_DATABASE_URL": "sqlite::memory:"},
			func(c *config.Config) any { return c.Server.Database.URL }, "sqlite::memory:"},
		{"duration as integer seconds", map[string]string{"RATCHET_EXECUTION_MAX_EXECUTION_DURATION": "45"},
			func(c *config.Config) any { return c.Execution.MaxExecutionDuration }, 45 * time.Second},
		{"duration as Go duration", map[string]string{"RATCHET_EXECUTION_MAX_EXECUTION_DURATION": "1m"},
			func(c *config.Config) any { return c.Execution.MaxExecutionDuration }, time.Minute},
		{"bool", map[string]string{"RATCHET_HTTP_VERIFY_SSL": "false"},
			func(c *config.Config) any { return c.HTTP.VerifySSL }, false},
		{"deep int", map[string]string{"RATCHET_LOGGING_FILE_ROTATION_MAX_FILES": "9"},
			func(c *config.Config) any { return c.Logging.FileRotation.MaxFiles }, 9},
		{"float", map[string]string{"RATCHET_OUTPUT_DEFAULT_RETRY_POLICY_BACKOFF_MULTIPLIER": "1.5"},
			func(c *config.Config) any { return c.Output.DefaultRetryPolicy.BackoffMultiplier }, 1.5},
		{"comma list", map[string]string{"RATCHET_HTTP_DENIED_HOSTS": "a.example.com, b.example.com,"},
			func(c *config.Config) any { return c.HTTP.DeniedHosts }, []string{"a.example.com", "b.example.com"}},
		{"JSON list", map[string]string{"RATCHET_SERVER_CORS_ALLOWED_ORIGINS": `["https://a.example", "https://b.example"]`},
			func(c *config.Config) any { return c.Server.CORS.AllowedOrigins }, []string{"https://a.example", "https://b.example"}},
		{"empty variable is unset", map[string]string{"RATCHET_SERVER_PORT": ""},
			func(c *config.Config) any { return c.Server.Port }, 8080},
		{"worker_count 0 means one per CPU", map[string]string{"RATCHET_SERVER_WORKERS_WORKER_COUNT": "0"},
			func(c *config.Config) any { return c.Server.Workers.WorkerCount }, runtime.NumCPU()},
		{"list of mappings as JSON", map[string]string{"RATCHET_REGISTRY_SOURCES": `[{"name":"env","uri":"file:///tasks"}]`},
			func(c *config.Config) any { return c.Registry.Sources },
			[]config.RegistrySource{{Name: "env", URI: "file:///tasks", Config: config.RegistrySourceConfig{DebounceMS: 500, IgnorePatterns: []string{}}}}},
		{"destinations as JSON", map[string]string{"RATCHET_OUTPUT_GLOBAL_DESTINATIONS": `[{"type":"webhook","url":"https://h.example/x","timeout":"3s"}]`},
			func(c *config.Config) any {
				d := c.Output.GlobalDestinations[0]
				return []any{d.URL, d.Timeout, d.Method}
			},
			[]any{"https://h.example/x", 3 * time.Second, "POST"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, "", tc.env)
			if got := tc.get(c); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestEveryKeyReadsItsEnvVar proves each key is bound to its environment variable: a bad
// value must be reported against the key and the variable, a good one must arrive.
func TestEveryKeyReadsItsEnvVar(t *testing.T) {
	t.Parallel()
	def := reflect.ValueOf(config.Default()).Elem()
	seen := map[string]string{}
	for _, k := range config.Keys() {
		want := "RATCHET_" + strings.ToUpper(strings.ReplaceAll(k.Path, ".", "_"))
		if k.Env[0] != want {
			t.Errorf("%s: first env var %s, want %s", k.Path, k.Env[0], want)
		}
		for _, e := range k.Env {
			if other, dup := seen[e]; dup {
				t.Errorf("%s is the env var of both %s and %s", e, other, k.Path)
			}
			seen[e] = k.Path
		}
		t.Run(k.Path, func(t *testing.T) {
			t.Parallel()
			field := fieldByPath(t, def, k.Path)
			bad, good := "not-valid!", ""
			switch {
			case field.Kind() == reflect.Slice && field.Type().Elem().Kind() == reflect.String:
				bad, good = "", "x-a,x-b"
			case field.Kind() == reflect.String:
				bad, good = "", "value-from-env"
			}
			if bad != "" {
				_, _, err := load(t, "", map[string]string{k.Env[0]: bad})
				fe := findFieldError(t, err, k.Path)
				if fe.Source != k.Env[0] {
					t.Errorf("source = %q, want %s", fe.Source, k.Env[0])
				}
				return
			}
			c, _, err := load(t, "", map[string]string{k.Env[0]: good})
			if err != nil {
				// Some strings must be specific values: then the error must name the key.
				findFieldError(t, err, k.Path)
				return
			}
			got := fieldByPath(t, reflect.ValueOf(c).Elem(), k.Path).Interface()
			if !strings.EqualFold(strings.Join(asStrings(got), ","), good) {
				t.Errorf("%s=%s gave %v", k.Env[0], good, got)
			}
		})
	}
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	}
	return nil
}

// fieldByPath follows yaml tags through v.
func fieldByPath(t *testing.T, v reflect.Value, path string) reflect.Value {
	t.Helper()
	for part := range strings.SplitSeq(path, ".") {
		found := false
		for i := range v.NumField() {
			if strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0] == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			t.Fatalf("no field %s in %s", part, path)
		}
	}
	return v
}

func TestProcessEnvironment(t *testing.T) {
	// No injected LookupEnv: Load reads the process environment.
	t.Setenv("RATCHET_SERVER_PORT", "7070")
	t.Setenv("RATCHET_TEST_DB_NAME", "fromenv")
	t.Setenv("RATCHET_DATABASE_URL", "sqlite://${RATCHET_TEST_DB_NAME}.db")
	c, _, err := config.Load(config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Port != 7070 || c.Server.Database.URL != "sqlite://fromenv.db" {
		t.Fatalf("port %d url %q", c.Server.Port, c.Server.Database.URL)
	}
}

func TestExpansion(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DB_PASS":                    "p@ss",
		"PORT":                       "9999",
		"EMPTY":                      "",
		"HOOK_TOK":                   "tok",
		"HOSTS":                      "a.example.com,b.example.com",
		"RATCHET_HTTP_USER_AGENT":    "Ratchet/${VERSION:-dev}",
		"RATCHET_HTTP_ALLOWED_HOSTS": "${HOSTS}",
	}
	yaml := `
server:
  port: ${PORT}
  database:
    url: postgres://u:${DB_PASS}@db/ratchet
logging:
  log_file_path: /var/log/${EMPTY:-ratchet}/$${NOT_EXPANDED}.log
plugins:
  dir: /plugins/${UNSET_VAR}
output:
  global_destinations:
    - type: webhook
      url: https://h.example/${EMPTY-x}
      auth: {type: bearer, token: "${HOOK_TOK}"}
`
	c, warnings, err := load(t, yaml, env)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"${VAR} to an int", c.Server.Port, 9999},
		{"inside a string", c.Server.Database.URL, "postgres://u:p@ss@db/ratchet"},
		{":- default for empty, $${ literal", c.Logging.LogFilePath, "/var/log/ratchet/${NOT_EXPANDED}.log"},
		{"unset is empty", c.Plugins.Dir, "/plugins/"},
		{"- keeps a set empty value", c.Output.GlobalDestinations[0].URL, "https://h.example/"},
		{"in a list element", c.Output.GlobalDestinations[0].Auth.Token, "tok"},
		{"in an env value", c.HTTP.UserAgent, "Ratchet/dev"},
		{"env list", c.HTTP.AllowedHosts, []string{"a.example.com", "b.example.com"}},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	if !hasWarning(warnings, "plugins.dir", "UNSET_VAR") {
		t.Errorf("no warning about the unset variable: %v", warnings)
	}
}

func TestDurations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml string
		want time.Duration
		err  string
	}{
		{"45", 45 * time.Second, ""},
		{`"45"`, 45 * time.Second, ""},
		{"1.5", 1500 * time.Millisecond, ""},
		{"1m", time.Minute, ""},
		{"90s", 90 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"soon", 0, "duration such as 30s"},
		{"true", 0, "duration such as 30s"},
		{"[1]", 0, "must be"},
		{"0", 0, "must be a positive duration"},
		{"-5s", 0, "must be a positive duration"},
		{"99999999999999999", 0, "duration such as 30s"},
	}
	for _, tc := range tests {
		t.Run(tc.yaml, func(t *testing.T) {
			t.Parallel()
			c, _, err := load(t, "execution:\n  max_execution_duration: "+tc.yaml+"\n", nil)
			if tc.err != "" {
				fe := findFieldError(t, err, "execution.max_execution_duration")
				if !strings.Contains(fe.Reason, tc.err) {
					t.Fatalf("reason %q does not contain %q", fe.Reason, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Execution.MaxExecutionDuration != tc.want {
				t.Fatalf("got %v, want %v", c.Execution.MaxExecutionDuration, tc.want)
			}
		})
	}
}

func TestUnknownKeysWarn(t *testing.T) {
	t.Parallel()
	yaml := `
server:
  prot: 9000
  database: {urll: x}
frobnicate: true
output:
  global_destinations:
    - type: filesystem
      path: /tmp/x
      pemissions: "0600"
registry:
  sources:
    - uri: ./tasks
      config: {wach: true}
`
	_, warnings, err := load(t, yaml, nil)
	if err != nil {
		t.Fatalf("unknown keys must not fail: %v", err)
	}
	want := map[string]string{
		"server.prot":          "did you mean server.port?",
		"server.database.urll": "did you mean server.database.url?",
		"frobnicate":           "unknown key",
		"output.global_destinations[0].pemissions": "did you mean output.global_destinations[0].permissions?",
		"registry.sources[0].config.wach":          "did you mean registry.sources[0].config.watch?",
	}
	for key, msg := range want {
		if !hasWarning(warnings, key, msg) {
			t.Errorf("no warning %q for %s in %v", msg, key, warnings)
		}
	}
	if len(warnings) != len(want) {
		t.Errorf("got %d warnings, want %d: %v", len(warnings), len(want), warnings)
	}
}

func TestTypeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, key, reason string
	}{
		{"string for int", `server: {port: "abc"}`, "server.port", "must be an integer"},
		{"fraction for int", `server: {port: 80.5}`, "server.port", "must be an integer"},
		{"bool for int", `server: {port: true}`, "server.port", "must be an integer"},
		{"scalar for section", `server: 5`, "server", "must be a mapping"},
		{"list for section", `logging: [a]`, "logging", "must be a mapping"},
		{"word for bool", `http: {verify_ssl: maybe}`, "http.verify_ssl", "true or false"},
		{"mapping for list", `server: {cors: {allowed_origins: {a: 1}}}`, "server.cors.allowed_origins", "list of strings"},
		{"mapping for string", `logging: {level: {a: b}}`, "logging.level", "must be a string"},
		{"mapping for unchecked string", `logging: {log_file_path: {a: b}}`, "logging.log_file_path", "must be a string"},
		{"list for float", `output: {default_retry_policy: {backoff_multiplier: [2]}}`, "output.default_retry_policy.backoff_multiplier", "must be a number"},
		{"scalar for list of mappings", `registry: {sources: 5}`, "registry.sources", "list of mappings"},
		{"bad element", "registry: {sources: [5]}", "registry.sources[0]", "must be a mapping"},
		{"bad file mode", "output: {global_destinations: [{type: filesystem, path: /x, permissions: rw}]}", "output.global_destinations[0].permissions", "octal file mode"},
		{"list for headers", "output: {global_destinations: [{type: webhook, url: 'https://x.example', headers: [a]}]}", "output.global_destinations[0].headers", "mapping of strings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, tc.yaml+"\n", nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error does not name %s: %v", tc.key, err)
			}
			fe := findFieldError(t, err, tc.key)
			if !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("reason %q does not contain %q", fe.Reason, tc.reason)
			}
		})
	}
}

func TestPortErrorMessage(t *testing.T) {
	t.Parallel()
	_, _, err := load(t, "", map[string]string{"RATCHET_SERVER_PORT": "abc"})
	want := `server.port: invalid value "abc" (from RATCHET_SERVER_PORT): must be an integer between 1 and 65535`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want it to contain %q", err, want)
	}
	_, _, err = load(t, "server: {port: 70000}\n", nil)
	want = `server.port: invalid value "70000": must be an integer between 1 and 65535`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want it to contain %q", err, want)
	}
}

func TestAllProblemsReported(t *testing.T) {
	t.Parallel()
	_, _, err := load(t, "server: {port: abc}\nlogging: {level: loud, format: xml}\nhttp: {timeout: never}\n",
		map[string]string{"RATCHET_CACHE_SIZE": "0"})
	got := map[string]bool{}
	for _, fe := range fieldErrors(t, err) {
		if got[fe.Key] {
			t.Errorf("%s reported twice: %v", fe.Key, err)
		}
		got[fe.Key] = true
	}
	for _, key := range []string{"server.port", "logging.level", "logging.format", "http.timeout", "cache.task_content_cache_size"} {
		if !got[key] {
			t.Errorf("%s not reported in %v", key, err)
		}
	}
}

func TestFileErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, _, err := config.Load(config.LoadOptions{File: missing, LookupEnv: config.EnvMap(nil)})
	if err == nil || !strings.Contains(err.Error(), missing) || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}

	for name, content := range map[string]string{
		"malformed":  "server:\n  port: [1,\n",
		"tabs":       "server:\n\tport: 1\n",
		"top list":   "- a\n- b\n",
		"top scalar": "hello\n",
	} {
		path := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := config.Load(config.LoadOptions{File: path, LookupEnv: config.EnvMap(nil)})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v does not name %s", name, err, path)
		}
	}

	// An empty file or only comments is the defaults.
	c := mustLoad(t, "# nothing here\n", nil)
	if !reflect.DeepEqual(c, config.Default()) {
		t.Error("a file of comments is not the defaults")
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestNullMeansDefault(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, "server:\n  port: ~\n  cors:\nlogging: null\n", nil)
	if c.Server.Port != 8080 || !c.Server.CORS.Enabled || c.Logging.Level != "info" {
		t.Fatalf("nulls did not keep defaults: %+v", c.Server)
	}
}

func TestLoadData(t *testing.T) {
	t.Parallel()
	c, _, err := config.Load(config.LoadOptions{Data: []byte("server: {port: 81}\n"), LookupEnv: config.EnvMap(nil)})
	if err != nil || c.Server.Port != 81 {
		t.Fatalf("port %v err %v", c, err)
	}
	_, _, err = config.Load(config.LoadOptions{File: "stdin", Data: []byte(": :\n- x"), LookupEnv: config.EnvMap(nil)})
	if err == nil || !strings.Contains(err.Error(), "stdin") {
		t.Fatalf("error does not name the source: %v", err)
	}
}
