package config

import (
	"os"
	"runtime"
	"time"
)

// Config is the whole Ratchet configuration. Field tags name the YAML keys; the environment
// variable of a key is RATCHET_ followed by its path in upper case joined with "_".
//
// Fields tagged redact are secrets: Redacted and Render never show them.
type Config struct {
	Server      ServerConfig      `yaml:"server" json:"server" mapstructure:"server"`
	Execution   ExecutionConfig   `yaml:"execution" json:"execution" mapstructure:"execution"`
	HTTP        HTTPConfig        `yaml:"http" json:"http" mapstructure:"http"`
	Cache       CacheConfig       `yaml:"cache" json:"cache" mapstructure:"cache"`
	Logging     LoggingConfig     `yaml:"logging" json:"logging" mapstructure:"logging"`
	Output      OutputConfig      `yaml:"output" json:"output" mapstructure:"output"`
	Registry    RegistryConfig    `yaml:"registry" json:"registry" mapstructure:"registry"`
	Plugins     PluginsConfig     `yaml:"plugins" json:"plugins" mapstructure:"plugins"`
	Development DevelopmentConfig `yaml:"development" json:"development" mapstructure:"development"`
}

// ServerConfig configures the HTTP server and the services behind it.
type ServerConfig struct {
	BindAddress string          `yaml:"bind_address" json:"bind_address" mapstructure:"bind_address"`
	Port        int             `yaml:"port" json:"port" mapstructure:"port"`
	Database    DatabaseConfig  `yaml:"database" json:"database" mapstructure:"database"`
	Workers     WorkersConfig   `yaml:"workers" json:"workers" mapstructure:"workers"`
	JobQueue    JobQueueConfig  `yaml:"job_queue" json:"job_queue" mapstructure:"job_queue"`
	RateLimit   RateLimitConfig `yaml:"rate_limit" json:"rate_limit" mapstructure:"rate_limit"`
	CORS        CORSConfig      `yaml:"cors" json:"cors" mapstructure:"cors"`
	Auth        AuthConfig      `yaml:"auth" json:"auth" mapstructure:"auth"`
	GraphQL     GraphQLConfig   `yaml:"graphql" json:"graphql" mapstructure:"graphql"`
}

// GraphQLConfig configures the GraphQL API at /graphql.
type GraphQLConfig struct {
	// Introspection answers __schema and __type queries (the playground needs it for its
	// documentation and completion). Turn it off to hide the schema from clients.
	Introspection bool `yaml:"introspection" json:"introspection" mapstructure:"introspection"`
}

// DatabaseConfig selects the database. URL schemes: sqlite://PATH, sqlite::memory:,
// postgres:// and postgresql://.
type DatabaseConfig struct {
	URL               string        `yaml:"url" json:"url" mapstructure:"url" redact:"url"`
	MaxConnections    int           `yaml:"max_connections" json:"max_connections" mapstructure:"max_connections"`
	ConnectionTimeout time.Duration `yaml:"connection_timeout" json:"connection_timeout" mapstructure:"connection_timeout"`
}

// WorkersConfig configures the pool of isolated worker processes.
type WorkersConfig struct {
	// WorkerCount is the number of worker processes; 0 in a file means one per CPU and Load
	// resolves it, so a loaded Config always holds the real count.
	WorkerCount                int  `yaml:"worker_count" json:"worker_count" mapstructure:"worker_count"`
	RestartOnCrash             bool `yaml:"restart_on_crash" json:"restart_on_crash" mapstructure:"restart_on_crash"`
	MaxRestartAttempts         int  `yaml:"max_restart_attempts" json:"max_restart_attempts" mapstructure:"max_restart_attempts"`
	RestartDelaySeconds        int  `yaml:"restart_delay_seconds" json:"restart_delay_seconds" mapstructure:"restart_delay_seconds"`
	HealthCheckIntervalSeconds int  `yaml:"health_check_interval_seconds" json:"health_check_interval_seconds" mapstructure:"health_check_interval_seconds"`
}

// JobQueueConfig bounds the job queue and sets the retry defaults of new jobs.
type JobQueueConfig struct {
	MaxDequeueBatchSize int           `yaml:"max_dequeue_batch_size" json:"max_dequeue_batch_size" mapstructure:"max_dequeue_batch_size"`
	MaxQueueSize        int           `yaml:"max_queue_size" json:"max_queue_size" mapstructure:"max_queue_size"`
	DefaultRetryDelay   time.Duration `yaml:"default_retry_delay" json:"default_retry_delay" mapstructure:"default_retry_delay"`
	DefaultMaxRetries   int           `yaml:"default_max_retries" json:"default_max_retries" mapstructure:"default_max_retries"`
}

// Rate limit profiles.
const (
	RateLimitProfileDefault    = "default"
	RateLimitProfilePermissive = "permissive"
	RateLimitProfileStrict     = "strict"
)

// RateLimitConfig configures the per-client token bucket of the REST API.
type RateLimitConfig struct {
	Enabled           bool   `yaml:"enabled" json:"enabled" mapstructure:"enabled"`
	RequestsPerMinute int    `yaml:"requests_per_minute" json:"requests_per_minute" mapstructure:"requests_per_minute"`
	BurstSize         int    `yaml:"burst_size" json:"burst_size" mapstructure:"burst_size"`
	Profile           string `yaml:"profile" json:"profile" mapstructure:"profile"`
}

// CORSConfig configures cross-origin requests to the API.
type CORSConfig struct {
	Enabled          bool          `yaml:"enabled" json:"enabled" mapstructure:"enabled"`
	AllowedOrigins   []string      `yaml:"allowed_origins" json:"allowed_origins" mapstructure:"allowed_origins"`
	AllowedMethods   []string      `yaml:"allowed_methods" json:"allowed_methods" mapstructure:"allowed_methods"`
	AllowedHeaders   []string      `yaml:"allowed_headers" json:"allowed_headers" mapstructure:"allowed_headers"`
	ExposeHeaders    []string      `yaml:"expose_headers" json:"expose_headers" mapstructure:"expose_headers"`
	AllowCredentials bool          `yaml:"allow_credentials" json:"allow_credentials" mapstructure:"allow_credentials"`
	MaxAge           time.Duration `yaml:"max_age" json:"max_age" mapstructure:"max_age"`
}

// API key roles.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleViewer   = "viewer"
)

// AuthConfig configures API-key authentication of the API.
type AuthConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled" mapstructure:"enabled"`
	// AllowUnauthenticated is the explicit opt-out needed to bind a non-loopback address
	// with authentication disabled.
	AllowUnauthenticated bool `yaml:"allow_unauthenticated" json:"allow_unauthenticated" mapstructure:"allow_unauthenticated"`
	// APIKeys are static keys from the configuration, in addition to keys stored in the database.
	APIKeys []APIKey `yaml:"api_keys" json:"api_keys" mapstructure:"api_keys"`
}

// APIKey is a static API key. Role is one of admin, operator (the default) and viewer.
type APIKey struct {
	Name string `yaml:"name" json:"name" mapstructure:"name"`
	Key  string `yaml:"key" json:"key" mapstructure:"key" redact:"secret"`
	Role string `yaml:"role" json:"role" mapstructure:"role"`
}

// ExecutionConfig bounds task executions.
type ExecutionConfig struct {
	MaxExecutionDuration time.Duration `yaml:"max_execution_duration" json:"max_execution_duration" mapstructure:"max_execution_duration"`
	ValidateSchemas      bool          `yaml:"validate_schemas" json:"validate_schemas" mapstructure:"validate_schemas"`
	// MemoryLimitMB is the per-worker memory limit; 0 means no limit.
	MemoryLimitMB  int `yaml:"memory_limit_mb" json:"memory_limit_mb" mapstructure:"memory_limit_mb"`
	MaxInputBytes  int `yaml:"max_input_bytes" json:"max_input_bytes" mapstructure:"max_input_bytes"`
	MaxOutputBytes int `yaml:"max_output_bytes" json:"max_output_bytes" mapstructure:"max_output_bytes"`
}

// HTTPConfig governs fetch() calls made by tasks.
type HTTPConfig struct {
	Timeout      time.Duration `yaml:"timeout" json:"timeout" mapstructure:"timeout"`
	MaxRedirects int           `yaml:"max_redirects" json:"max_redirects" mapstructure:"max_redirects"`
	UserAgent    string        `yaml:"user_agent" json:"user_agent" mapstructure:"user_agent"`
	VerifySSL    bool          `yaml:"verify_ssl" json:"verify_ssl" mapstructure:"verify_ssl"`
	EnableCache  bool          `yaml:"enable_cache" json:"enable_cache" mapstructure:"enable_cache"`
	CacheTTL     time.Duration `yaml:"cache_ttl" json:"cache_ttl" mapstructure:"cache_ttl"`
	// AllowedHosts, when not empty, is the only hosts fetch may reach; DeniedHosts are refused
	// even when allowed. Entries are host names, optionally "*.example.com".
	AllowedHosts []string `yaml:"allowed_hosts" json:"allowed_hosts" mapstructure:"allowed_hosts"`
	DeniedHosts  []string `yaml:"denied_hosts" json:"denied_hosts" mapstructure:"denied_hosts"`
}

// CacheConfig configures the task content cache.
type CacheConfig struct {
	Enabled              bool `yaml:"enabled" json:"enabled" mapstructure:"enabled"`
	TaskContentCacheSize int  `yaml:"task_content_cache_size" json:"task_content_cache_size" mapstructure:"task_content_cache_size"`
}

// Log levels and formats.
const (
	LogLevelDebug = "debug"
	LogLevelInfo  = "info"
	LogLevelWarn  = "warn"
	LogLevelError = "error"

	LogFormatText = "text"
	LogFormatJSON = "json"
)

// LoggingConfig configures the server's slog output.
type LoggingConfig struct {
	Level        string             `yaml:"level" json:"level" mapstructure:"level"`
	Format       string             `yaml:"format" json:"format" mapstructure:"format"`
	LogToFile    bool               `yaml:"log_to_file" json:"log_to_file" mapstructure:"log_to_file"`
	LogFilePath  string             `yaml:"log_file_path" json:"log_file_path" mapstructure:"log_file_path"`
	FileRotation FileRotationConfig `yaml:"file_rotation" json:"file_rotation" mapstructure:"file_rotation"`
}

// FileRotationConfig configures rotation of the log file.
type FileRotationConfig struct {
	MaxSizeMB int  `yaml:"max_size_mb" json:"max_size_mb" mapstructure:"max_size_mb"`
	MaxFiles  int  `yaml:"max_files" json:"max_files" mapstructure:"max_files"`
	Compress  bool `yaml:"compress" json:"compress" mapstructure:"compress"`
}

// OutputConfig configures delivery of job outputs.
type OutputConfig struct {
	MaxConcurrentDeliveries int           `yaml:"max_concurrent_deliveries" json:"max_concurrent_deliveries" mapstructure:"max_concurrent_deliveries"`
	DefaultTimeout          time.Duration `yaml:"default_timeout" json:"default_timeout" mapstructure:"default_timeout"`
	DefaultRetryPolicy      RetryPolicy   `yaml:"default_retry_policy" json:"default_retry_policy" mapstructure:"default_retry_policy"`
	// GlobalDestinations receive the output of every completed job. From the environment
	// (RATCHET_OUTPUT_GLOBAL_DESTINATIONS) they are given as a JSON array.
	GlobalDestinations []Destination `yaml:"global_destinations" json:"global_destinations" mapstructure:"global_destinations"`
}

// RetryPolicy is an exponential backoff policy for deliveries.
type RetryPolicy struct {
	MaxAttempts       int     `yaml:"max_attempts" json:"max_attempts" mapstructure:"max_attempts"`
	InitialDelayMS    int     `yaml:"initial_delay_ms" json:"initial_delay_ms" mapstructure:"initial_delay_ms"`
	MaxDelayMS        int     `yaml:"max_delay_ms" json:"max_delay_ms" mapstructure:"max_delay_ms"`
	BackoffMultiplier float64 `yaml:"backoff_multiplier" json:"backoff_multiplier" mapstructure:"backoff_multiplier"`
}

// Destination types, file formats, webhook auth types.
const (
	DestinationFilesystem = "filesystem"
	DestinationWebhook    = "webhook"

	FormatJSON        = "json"
	FormatJSONCompact = "json_compact"
	FormatYAML        = "yaml"
	FormatCSV         = "csv"
	FormatRaw         = "raw"

	AuthBearer = "bearer"
	AuthBasic  = "basic"
	AuthAPIKey = "api_key"
)

// Destination is where a job's output is delivered: a file (filesystem) or an HTTP request
// (webhook). Path may hold templates such as {{task_name}} and {{job_uuid}}. Fields tagged
// only apply to that type and are left out when rendering the other.
//
// Header names are case-insensitive; viper lower-cases them when loading.
type Destination struct {
	Type string `yaml:"type" json:"type" mapstructure:"type"`

	// filesystem
	Path        string      `yaml:"path" json:"path" mapstructure:"path" only:"filesystem"`
	Format      string      `yaml:"format" json:"format" mapstructure:"format" only:"filesystem"`
	Permissions os.FileMode `yaml:"permissions" json:"permissions" mapstructure:"permissions" only:"filesystem"`
	// CreateDirs defaults to true for filesystem destinations read from a file.
	CreateDirs bool `yaml:"create_dirs" json:"create_dirs" mapstructure:"create_dirs" only:"filesystem"`
	Overwrite  bool `yaml:"overwrite" json:"overwrite" mapstructure:"overwrite" only:"filesystem"`

	// webhook
	URL         string            `yaml:"url" json:"url" mapstructure:"url" redact:"url" only:"webhook"`
	Method      string            `yaml:"method" json:"method" mapstructure:"method" only:"webhook"`
	Headers     map[string]string `yaml:"headers,omitempty" json:"headers,omitempty" mapstructure:"headers" redact:"headers" only:"webhook"`
	Auth        *WebhookAuth      `yaml:"auth,omitempty" json:"auth,omitempty" mapstructure:"auth" only:"webhook"`
	Signature   *Signature        `yaml:"signature,omitempty" json:"signature,omitempty" mapstructure:"signature" only:"webhook"`
	Timeout     time.Duration     `yaml:"timeout" json:"timeout" mapstructure:"timeout" only:"webhook"`
	RetryPolicy *RetryPolicy      `yaml:"retry_policy" json:"retry_policy" mapstructure:"retry_policy" only:"webhook"`
}

// WebhookAuth authenticates webhook requests: bearer uses Token; basic uses Username and
// Password; api_key sends Key in Header (default X-API-Key).
type WebhookAuth struct {
	Type     string `yaml:"type" json:"type" mapstructure:"type"`
	Token    string `yaml:"token,omitempty" json:"token,omitempty" mapstructure:"token" redact:"secret"`
	Username string `yaml:"username,omitempty" json:"username,omitempty" mapstructure:"username"`
	Password string `yaml:"password,omitempty" json:"password,omitempty" mapstructure:"password" redact:"secret"`
	Header   string `yaml:"header,omitempty" json:"header,omitempty" mapstructure:"header"`
	Key      string `yaml:"key,omitempty" json:"key,omitempty" mapstructure:"key" redact:"secret"`
}

// Signature makes webhook deliveries carry an HMAC-SHA256 of the body, keyed by Secret, in
// Header (default X-Ratchet-Signature).
type Signature struct {
	Secret string `yaml:"secret" json:"secret" mapstructure:"secret" redact:"secret"`
	Header string `yaml:"header,omitempty" json:"header,omitempty" mapstructure:"header"`
}

// Defaults filled in by Destination.SetDefaults.
const (
	DefaultAPIKeyHeader    = "X-API-Key"
	DefaultSignatureHeader = "X-Ratchet-Signature"
	DefaultFileMode        = os.FileMode(0o644)
	DefaultDebounceMS      = 500
)

// RegistryConfig lists where tasks are loaded from at start.
type RegistryConfig struct {
	Sources []RegistrySource `yaml:"sources" json:"sources" mapstructure:"sources"`
}

// RegistrySource is one task source: a file:// URI or a path to a task folder, a folder of
// tasks or a zip.
type RegistrySource struct {
	Name   string               `yaml:"name" json:"name" mapstructure:"name"`
	URI    string               `yaml:"uri" json:"uri" mapstructure:"uri"`
	Config RegistrySourceConfig `yaml:"config" json:"config" mapstructure:"config"`
}

// RegistrySourceConfig configures watching a source for changes.
type RegistrySourceConfig struct {
	Watch          bool     `yaml:"watch" json:"watch" mapstructure:"watch"`
	DebounceMS     int      `yaml:"debounce_ms" json:"debounce_ms" mapstructure:"debounce_ms"`
	IgnorePatterns []string `yaml:"ignore_patterns" json:"ignore_patterns" mapstructure:"ignore_patterns"`
}

// PluginsConfig configures discovery of go-plugin executables.
type PluginsConfig struct {
	Enabled bool   `yaml:"enabled" json:"enabled" mapstructure:"enabled"`
	Dir     string `yaml:"dir" json:"dir" mapstructure:"dir"`
}

// DevelopmentConfig holds switches that must stay off in production.
type DevelopmentConfig struct {
	EnableDebugEndpoints bool `yaml:"enable_debug_endpoints" json:"enable_debug_endpoints" mapstructure:"enable_debug_endpoints"`
}

// Default returns the default configuration. Every call returns a new value.
func Default() *Config {
	return &Config{
		Server: ServerConfig{
			BindAddress: "127.0.0.1",
			Port:        8080,
			Database: DatabaseConfig{
				URL:               "sqlite://ratchet.db",
				MaxConnections:    10,
				ConnectionTimeout: 30 * time.Second,
			},
			Workers: WorkersConfig{
				WorkerCount:                runtime.NumCPU(),
				RestartOnCrash:             true,
				MaxRestartAttempts:         5,
				RestartDelaySeconds:        1,
				HealthCheckIntervalSeconds: 30,
			},
			JobQueue: JobQueueConfig{
				MaxDequeueBatchSize: 10,
				MaxQueueSize:        100000,
				DefaultRetryDelay:   60 * time.Second,
				DefaultMaxRetries:   3,
			},
			RateLimit: RateLimitConfig{
				Enabled:           true,
				RequestsPerMinute: 60,
				BurstSize:         10,
				Profile:           RateLimitProfileDefault,
			},
			CORS: CORSConfig{
				Enabled:        true,
				AllowedOrigins: []string{"*"},
				AllowedMethods: []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
				AllowedHeaders: []string{"Content-Type", "Authorization", "X-Request-ID"},
				// Refine's simple-rest reads the list headers, so browsers must see them.
				ExposeHeaders:    []string{"X-Total-Count", "Content-Range", "X-Request-ID"},
				AllowCredentials: false,
				MaxAge:           24 * time.Hour,
			},
			Auth:    AuthConfig{APIKeys: []APIKey{}},
			GraphQL: GraphQLConfig{Introspection: true},
		},
		Execution: ExecutionConfig{
			MaxExecutionDuration: 300 * time.Second,
			ValidateSchemas:      true,
			MemoryLimitMB:        512,
			MaxInputBytes:        10 << 20,
			MaxOutputBytes:       10 << 20,
		},
		HTTP: HTTPConfig{
			Timeout:      30 * time.Second,
			MaxRedirects: 10,
			UserAgent:    "Ratchet/1.0",
			VerifySSL:    true,
			EnableCache:  false,
			CacheTTL:     5 * time.Minute,
			AllowedHosts: []string{},
			DeniedHosts:  []string{},
		},
		Cache: CacheConfig{
			Enabled:              true,
			TaskContentCacheSize: 100,
		},
		Logging: LoggingConfig{
			Level:       LogLevelInfo,
			Format:      LogFormatText,
			LogToFile:   false,
			LogFilePath: "ratchet.log",
			FileRotation: FileRotationConfig{
				MaxSizeMB: 100,
				MaxFiles:  5,
				Compress:  true,
			},
		},
		Output: OutputConfig{
			MaxConcurrentDeliveries: 10,
			DefaultTimeout:          30 * time.Second,
			DefaultRetryPolicy:      DefaultRetryPolicy(),
			GlobalDestinations:      []Destination{},
		},
		Registry: RegistryConfig{Sources: []RegistrySource{}},
		Plugins:  PluginsConfig{Enabled: false, Dir: "plugins"},
	}
}

// DefaultRetryPolicy is the default of output.default_retry_policy.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, InitialDelayMS: 1000, MaxDelayMS: 30000, BackoffMultiplier: 2.0}
}

// SetDefaults fills the unset fields of d that have defaults: format and permissions of a
// filesystem destination; method, timeout, retry policy and header names of a webhook. Timeout
// and retry policy come from o (the package defaults when o is nil).
func (d *Destination) SetDefaults(o *OutputConfig) {
	timeout, retry := 30*time.Second, DefaultRetryPolicy()
	if o != nil {
		timeout, retry = o.DefaultTimeout, o.DefaultRetryPolicy
	}
	switch d.Type {
	case DestinationFilesystem:
		if d.Format == "" {
			d.Format = FormatJSON
		}
		if d.Permissions == 0 {
			d.Permissions = DefaultFileMode
		}
	case DestinationWebhook:
		if d.Method == "" {
			d.Method = "POST"
		}
		if d.Timeout == 0 {
			d.Timeout = timeout
		}
		if d.RetryPolicy == nil {
			d.RetryPolicy = &retry
		}
		if d.Auth != nil && d.Auth.Type == AuthAPIKey && d.Auth.Header == "" {
			d.Auth.Header = DefaultAPIKeyHeader
		}
		if d.Signature != nil && d.Signature.Header == "" {
			d.Signature.Header = DefaultSignatureHeader
		}
	}
}
