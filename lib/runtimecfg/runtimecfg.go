// Package runtimecfg maps the user's configuration (config.Config) onto the
// runtime's component configs: the in-process engine and the worker pool.
// The composition root and the local CLI commands both use it, so a key
// means the same thing to `ratchet serve` and `ratchet run-once`.
package runtimecfg

import (
	"log/slog"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/fetch"
	"github.com/ratchet-go/ratchet/runtime/pool"
)

// Engine is the engine configuration of execution.* and http.*.
func Engine(cfg *config.Config) engine.Config {
	return engine.Config{
		MaxExecutionDuration: cfg.Execution.MaxExecutionDuration,
		SkipSchemaValidation: !cfg.Execution.ValidateSchemas,
		MaxInputBytes:        cfg.Execution.MaxInputBytes,
		MaxOutputBytes:       cfg.Execution.MaxOutputBytes,
		CacheSize:            cfg.Cache.TaskContentCacheSize,
		HTTP:                 Fetch(cfg),
	}
}

// Fetch is the fetch configuration of http.*.
func Fetch(cfg *config.Config) fetch.Config {
	return fetch.Config{
		Timeout:            cfg.HTTP.Timeout,
		MaxRedirects:       cfg.HTTP.MaxRedirects,
		UserAgent:          cfg.HTTP.UserAgent,
		InsecureSkipVerify: !cfg.HTTP.VerifySSL,
		AllowedHosts:       cfg.HTTP.AllowedHosts,
		DeniedHosts:        cfg.HTTP.DeniedHosts,
	}
}

// Pool is the worker pool configuration of server.workers.* and
// execution.memory_limit_mb. The caller sets Command, Node and
// OnStatusChange.
func Pool(cfg *config.Config, logger *slog.Logger) pool.Config {
	pc := pool.DefaultConfig()
	w := cfg.Server.Workers
	if w.WorkerCount > 0 {
		pc.WorkerCount = w.WorkerCount
	}
	pc.RestartOnCrash = w.RestartOnCrash
	if w.MaxRestartAttempts > 0 {
		pc.MaxRestartAttempts = w.MaxRestartAttempts
	}
	if w.RestartDelaySeconds > 0 {
		pc.RestartDelay = time.Duration(w.RestartDelaySeconds) * time.Second
	}
	if w.HealthCheckIntervalSeconds > 0 {
		pc.HealthCheckInterval = time.Duration(w.HealthCheckIntervalSeconds) * time.Second
	}
	pc.MemoryLimitMB = cfg.Execution.MemoryLimitMB
	if cfg.Cache.TaskContentCacheSize > 0 {
		pc.TaskCacheSize = cfg.Cache.TaskContentCacheSize
	}
	pc.Logger = logger
	return pc
}
