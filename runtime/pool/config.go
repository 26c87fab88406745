package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// Config configures a Pool. DefaultConfig gives the defaults; zero fields of
// a Config passed to New take them too, except RestartOnCrash, which is a
// plain bool (false means a crashed worker stays down).
type Config struct {
	// WorkerCount is the number of worker processes; 0 means one per CPU.
	WorkerCount int
	// RestartOnCrash replaces a worker whose process died or stopped
	// answering health checks. Workers killed on purpose (an execution that
	// did not stop within KillGrace) are always replaced.
	RestartOnCrash bool
	// MaxRestartAttempts bounds the crash restarts of one worker within
	// RestartWindow; past it the worker stays down until the window lets it
	// try again. 0 means 5; negative means no bound.
	MaxRestartAttempts int
	// RestartWindow is the window of MaxRestartAttempts; 0 means 1 minute.
	RestartWindow time.Duration
	// RestartDelay is the base of the backoff between crash restarts of a
	// worker: the first replacement within the window is immediate, the
	// n-th waits RestartDelay·2^(n-2), jittered, at most RestartWindow.
	// 0 means 1 s; negative means no delay.
	RestartDelay time.Duration
	// HealthCheckInterval is how often every worker is asked for its
	// health; one that does not answer within HealthCheckTimeout is killed
	// and replaced. 0 means 30 s; negative disables health checks.
	HealthCheckInterval time.Duration
	// HealthCheckTimeout: 0 means 5 s.
	HealthCheckTimeout time.Duration
	// MemoryLimitMB is each worker's memory limit; 0 means 512 MB,
	// negative means none.
	MemoryLimitMB int
	// TaskCacheSize is how many task versions each worker keeps compiled;
	// 0 means the worker's default.
	TaskCacheSize int
	// KillGrace is how long an execution that timed out or was cancelled
	// may take to stop after the worker was asked to interrupt it, before
	// the worker is killed and replaced. 0 means 2 s.
	KillGrace time.Duration
	// AcquireTimeout bounds how long Execute waits for an idle worker;
	// 0 means 30 s, negative means only the context bounds it.
	AcquireTimeout time.Duration
	// StartTimeout bounds a worker process's start (the go-plugin
	// handshake); 0 means 10 s.
	StartTimeout time.Duration
	// Command builds the command that starts one worker process, which must
	// call worker.Serve. ctx ends when the pool has stopped. nil means this
	// executable with the argument "worker" (SelfCommand("worker")). The
	// pool replaces the command's environment with worker.BaseEnv plus the
	// worker's settings, then appends the command's own Env entries.
	Command func(ctx context.Context) *exec.Cmd
	// Logger receives the pool's and the workers' log lines; nil means
	// slog.Default().
	Logger *slog.Logger
	// Node names this node in the workers' stats; "" means the host name.
	Node string
	// WorkerLogLevel is the level of the workers' own log lines.
	WorkerLogLevel slog.Level
	// OnStatusChange, when set, receives a snapshot of a worker each time
	// its status changes, in order, from one goroutine. It must not block
	// for long.
	OnStatusChange func(core.Worker)
}

// DefaultConfig returns the default configuration; Command stays nil
// (this executable's `worker` command).
func DefaultConfig() Config {
	return Config{
		WorkerCount:         runtime.NumCPU(),
		RestartOnCrash:      true,
		MaxRestartAttempts:  5,
		RestartWindow:       time.Minute,
		RestartDelay:        time.Second,
		HealthCheckInterval: 30 * time.Second,
		HealthCheckTimeout:  5 * time.Second,
		MemoryLimitMB:       512,
		KillGrace:           2 * time.Second,
		AcquireTimeout:      30 * time.Second,
		StartTimeout:        10 * time.Second,
	}
}

func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	setDefault(&c.WorkerCount, d.WorkerCount)
	setDefault(&c.MaxRestartAttempts, d.MaxRestartAttempts)
	setDefault(&c.RestartWindow, d.RestartWindow)
	setDefault(&c.RestartDelay, d.RestartDelay)
	setDefault(&c.HealthCheckInterval, d.HealthCheckInterval)
	setDefault(&c.HealthCheckTimeout, d.HealthCheckTimeout)
	setDefault(&c.MemoryLimitMB, d.MemoryLimitMB)
	setDefault(&c.KillGrace, d.KillGrace)
	setDefault(&c.AcquireTimeout, d.AcquireTimeout)
	setDefault(&c.StartTimeout, d.StartTimeout)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Node == "" {
		c.Node, _ = os.Hostname()
	}
	if c.Command == nil {
		cmd, err := SelfCommand("worker")
		if err != nil {
			return c, err
		}
		c.Command = cmd
	}
	return c, c.validate()
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (c Config) validate() error {
	var errs []error
	if c.WorkerCount < 0 {
		errs = append(errs, fmt.Errorf("WorkerCount must not be negative, got %d", c.WorkerCount))
	}
	if c.RestartWindow < 0 {
		errs = append(errs, fmt.Errorf("RestartWindow must not be negative, got %s", c.RestartWindow))
	}
	if c.KillGrace < 0 {
		errs = append(errs, fmt.Errorf("KillGrace must not be negative, got %s", c.KillGrace))
	}
	if c.HealthCheckTimeout < 0 {
		errs = append(errs, fmt.Errorf("HealthCheckTimeout must not be negative, got %s", c.HealthCheckTimeout))
	}
	if c.StartTimeout < 0 {
		errs = append(errs, fmt.Errorf("StartTimeout must not be negative, got %s", c.StartTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid pool config: %w", err)
	}
	return nil
}

// SelfCommand answers a Command that re-executes this program with args,
// such as SelfCommand("worker") for `ratchet worker`.
func SelfCommand(args ...string) (func(ctx context.Context) *exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this executable to start workers: %w", err)
	}
	return func(ctx context.Context) *exec.Cmd {
		return exec.CommandContext(ctx, exe, args...)
	}, nil
}
