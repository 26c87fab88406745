package worker

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// The environment variables that carry a worker's settings from the host.
const (
	EnvID            = "RATCHET_WORKER_ID"
	EnvMemoryLimitMB = "RATCHET_WORKER_MEMORY_LIMIT_MB"
	EnvTaskCacheSize = "RATCHET_WORKER_TASK_CACHE_SIZE"
	EnvLogLevel      = "RATCHET_WORKER_LOG_LEVEL"
)

// inherited lists the host variables a worker keeps: what a process needs
// to run (PATH, HOME, TMPDIR), the time zone and locale, and the Go
// runtime's debugging knobs. Everything else, secrets above all
// (RATCHET_*, DATABASE_URL, cloud credentials), stays in the host.
var inherited = []string{
	"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL",
	"GODEBUG", "GOTRACEBACK", "GOMAXPROCS", "GORACE", "GOCOVERDIR",
}

// BaseEnv is the part of the host's environment a worker process inherits
// (see inherited above); go-plugin adds its handshake variables and the
// host its Settings.
func BaseEnv() []string {
	env := make([]string, 0, len(inherited))
	for _, k := range inherited {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Settings are what the host tells a worker process through its
// environment.
type Settings struct {
	// ID names the worker in its logs.
	ID string
	// MemoryLimitMB is the worker's memory limit; 0 means the default
	// (DefaultMemoryLimitMB), negative means none.
	MemoryLimitMB int
	// TaskCacheSize bounds the task versions a worker keeps; 0 means the
	// default (DefaultTaskCacheSize).
	TaskCacheSize int
	// LogLevel is the level of the worker's own log lines.
	LogLevel slog.Level
}

// DefaultTaskCacheSize is how many task versions a worker keeps by default.
const DefaultTaskCacheSize = 256

// Environ encodes s as environment variables.
func (s Settings) Environ() []string {
	env := []string{
		EnvMemoryLimitMB + "=" + strconv.Itoa(s.MemoryLimitMB),
		EnvTaskCacheSize + "=" + strconv.Itoa(s.TaskCacheSize),
		EnvLogLevel + "=" + s.LogLevel.String(),
	}
	if s.ID != "" {
		env = append(env, EnvID+"="+s.ID)
	}
	return env
}

// SettingsFromEnv decodes the settings a host passed; unset variables keep
// their zero values.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	var s Settings
	s.ID = getenv(EnvID)
	var err error
	if s.MemoryLimitMB, err = envInt(getenv, EnvMemoryLimitMB); err != nil {
		return s, err
	}
	if s.TaskCacheSize, err = envInt(getenv, EnvTaskCacheSize); err != nil {
		return s, err
	}
	if v := strings.TrimSpace(getenv(EnvLogLevel)); v != "" {
		if err := s.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return s, fmt.Errorf("%s: %w", EnvLogLevel, err)
		}
	}
	return s, nil
}

func envInt(getenv func(string) string, key string) (int, error) {
	v := strings.TrimSpace(getenv(key))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an integer", key, v)
	}
	return n, nil
}
