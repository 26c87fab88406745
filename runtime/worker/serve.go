package worker

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// MaxMessageBytes bounds one gRPC message between host and worker (an
// input, an output with its logs). Executions enforce their own, smaller
// limits (Limits.MaxInputBytes, MaxOutputBytes); this is the transport's.
const MaxMessageBytes = 256 << 20

// ServeConfig configures a worker process. Zero fields take their values
// from the environment the host set (see Settings), then the defaults.
type ServeConfig struct {
	// Executor runs the executions; nil means the JavaScript engine.
	Executor Executor
	// Settings override the environment's when non-zero.
	Settings Settings
	// Logger receives the worker's own log lines; nil means go-plugin's
	// JSON lines on stderr, which the host logs as its own.
	Logger *slog.Logger
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Serve runs a worker process: it serves the worker protocol through
// go-plugin (gRPC only) until the host closes it, then returns. Standard
// output belongs to the go-plugin handshake; logs go to stderr. A process
// started without the handshake cookie (by hand) is told so and exits.
// This is the whole of the hidden `ratchet worker` command:
//
//	return worker.Serve(worker.ServeConfig{})
func Serve(cfg ServeConfig) error {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env, err := SettingsFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("worker settings: %w", err)
	}
	s := mergeSettings(cfg.Settings, env)

	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(NewLogHandler(os.Stderr, s.LogLevel))
	}
	if s.ID != "" {
		logger = logger.With(slog.String("worker_id", s.ID))
	}

	var limit int64
	if s.MemoryLimitMB > 0 {
		limit = int64(s.MemoryLimitMB) << 20
	}
	guard := newMemoryGuard(limit)
	osLimit, err := guard.apply()
	if err != nil {
		logger.Warn("could not set the OS memory limit; the Go limit and the watchdog still apply", slog.Any("error", err))
	}

	exec := cfg.Executor
	if exec == nil {
		exec = newEngineExecutor(logger, s.TaskCacheSize)
	}
	srv, err := newServer(exec, logger, s.TaskCacheSize, guard)
	if err != nil {
		return err
	}
	stopWatch := watchParent(logger)
	defer stopWatch()
	// The host owns a worker's lifetime: a SIGTERM sent to the whole process
	// group or cgroup (systemd, a terminal) must not kill the executions the
	// host is draining. go-plugin ignores SIGINT the same way. A worker whose
	// host is gone exits (see watchParent).
	signal.Ignore(syscall.SIGTERM)

	logger.Debug("worker serving",
		slog.Int("pid", os.Getpid()),
		slog.Int64("memory_limit_bytes", limit),
		slog.Uint64("os_memory_limit_bytes", osLimit),
		slog.Int("task_cache_size", s.TaskCacheSize))
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{PluginName: &Plugin{server: srv}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes))
			return grpc.NewServer(opts...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "worker",
			Level:      hclogLevel(s.LogLevel),
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
	return nil
}

func mergeSettings(explicit, env Settings) Settings {
	s := env
	if explicit.ID != "" {
		s.ID = explicit.ID
	}
	if explicit.MemoryLimitMB != 0 {
		s.MemoryLimitMB = explicit.MemoryLimitMB
	}
	if explicit.TaskCacheSize != 0 {
		s.TaskCacheSize = explicit.TaskCacheSize
	}
	if explicit.LogLevel != 0 {
		s.LogLevel = explicit.LogLevel
	}
	if s.MemoryLimitMB == 0 {
		s.MemoryLimitMB = DefaultMemoryLimitMB
	}
	if s.TaskCacheSize <= 0 {
		s.TaskCacheSize = DefaultTaskCacheSize
	}
	return s
}

// parentPollInterval is how often a worker checks that its host lives.
const parentPollInterval = time.Second

// watchParent exits the process when its parent (the host) is gone and the
// worker has been re-parented. The host also sets a parent-death signal;
// this covers the cases that signal misses.
func watchParent(logger *slog.Logger) (stop func()) {
	ppid := os.Getppid()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(parentPollInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if os.Getppid() != ppid {
					logger.Warn("host process is gone; worker exiting", slog.Int("host_pid", ppid))
					os.Exit(2)
				}
			}
		}
	}()
	return func() { close(done) }
}
