package host

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Config configures a Manager. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// Dir is plugins.dir: every executable in it is started as a plugin. A
	// Dir that does not exist is logged and means no plugins.
	Dir string
	// Candidates are plugins to start besides those found in Dir.
	Candidates []Candidate
	// Env is added to each plugin's environment, which otherwise holds only
	// PATH, HOME, TMPDIR, TZ, LANG, LC_ALL and the Go runtime's knobs (no
	// secrets of the host's) plus go-plugin's handshake variables.
	Env []string
	// StartTimeout bounds a plugin's start: the go-plugin handshake and
	// Describe. 0 means 10 s.
	StartTimeout time.Duration
	// RestartDelay is the base of the backoff between restarts of a plugin
	// that crashed or failed to start: the n-th consecutive failure waits
	// RestartDelay·2^(n-1), jittered by ±20%, at most MaxRestartDelay.
	// 0 means 1 s.
	RestartDelay time.Duration
	// MaxRestartDelay caps the backoff; 0 means 1 minute.
	MaxRestartDelay time.Duration
	// MaxRestartAttempts is how many consecutive failures a plugin may have
	// before it is marked failed and left down (until the manager is
	// restarted). A plugin that ran for StableAfter has its count reset.
	// 0 means 5; negative means no bound.
	MaxRestartAttempts int
	// StableAfter: 0 means 1 minute.
	StableAfter time.Duration
	// HealthCheckInterval is how often each running plugin is pinged; one
	// that does not answer within HealthCheckTimeout is killed and
	// restarted. 0 means 30 s; negative disables health checks.
	HealthCheckInterval time.Duration
	// HealthCheckTimeout: 0 means 5 s.
	HealthCheckTimeout time.Duration
	// EventQueueSize bounds the events waiting for delivery to one plugin;
	// past it Publish drops events and counts them. 0 means 256.
	EventQueueSize int
	// EventTimeout bounds the delivery of one event. 0 means 10 s.
	EventTimeout time.Duration
	// Logger receives the manager's and the plugins' log lines; nil means
	// slog.Default().
	Logger *slog.Logger
	// OnStatusChange, when set, receives a snapshot of a plugin each time
	// its state changes (and after each successful start, whose Describe
	// may have changed its tasks), in order per plugin. It is called from
	// the plugin's supervising goroutine and must not block for long.
	OnStatusChange func(Status)
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		StartTimeout:        10 * time.Second,
		RestartDelay:        time.Second,
		MaxRestartDelay:     time.Minute,
		MaxRestartAttempts:  5,
		StableAfter:         time.Minute,
		HealthCheckInterval: 30 * time.Second,
		HealthCheckTimeout:  5 * time.Second,
		EventQueueSize:      256,
		EventTimeout:        10 * time.Second,
	}
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	setDefault(&c.StartTimeout, d.StartTimeout)
	setDefault(&c.RestartDelay, d.RestartDelay)
	setDefault(&c.MaxRestartDelay, d.MaxRestartDelay)
	setDefault(&c.MaxRestartAttempts, d.MaxRestartAttempts)
	setDefault(&c.StableAfter, d.StableAfter)
	setDefault(&c.HealthCheckInterval, d.HealthCheckInterval)
	setDefault(&c.HealthCheckTimeout, d.HealthCheckTimeout)
	setDefault(&c.EventQueueSize, d.EventQueueSize)
	setDefault(&c.EventTimeout, d.EventTimeout)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.StartTimeout < 0 {
		errs = append(errs, fmt.Errorf("host.Config.StartTimeout must not be negative (got %s)", c.StartTimeout))
	}
	if c.EventQueueSize < 0 {
		errs = append(errs, fmt.Errorf("host.Config.EventQueueSize must not be negative (got %d)", c.EventQueueSize))
	}
	if c.EventTimeout < 0 {
		errs = append(errs, fmt.Errorf("host.Config.EventTimeout must not be negative (got %s)", c.EventTimeout))
	}
	for _, cand := range c.Candidates {
		if cand.Path == "" {
			errs = append(errs, fmt.Errorf("host.Config.Candidates: candidate %q has no Path", cand.Name))
		}
	}
	return errors.Join(errs...)
}

// inherited lists the host variables a plugin keeps: what a process needs
// to run, the time zone and locale, and the Go runtime's knobs. Everything
// else (RATCHET_*, DATABASE_URL, cloud credentials) stays in the host; pass
// what a plugin needs through Config.Env.
var inherited = []string{
	"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL",
	"GODEBUG", "GOTRACEBACK", "GOMAXPROCS", "GORACE", "GOCOVERDIR",
}

func baseEnv() []string {
	env := make([]string, 0, len(inherited))
	for _, k := range inherited {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
