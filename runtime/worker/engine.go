package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/resilience/breaker"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/fetch"
)

// maxEngines bounds the engines a worker keeps, one per distinct set of
// limits (in practice the server's configuration gives one).
const maxEngines = 8

// engineExecutor runs executions on the JavaScript engine. An engine's
// limits are its configuration, while the protocol sends them with each
// request: the executor keeps one engine per distinct set of limits, each
// with its cache of compiled task versions.
type engineExecutor struct {
	log       *slog.Logger
	cacheSize int
	// breakers guard fetch's hosts, one breaker per host for this worker
	// process, shared by its engines.
	breakers *breaker.Registry

	mu      sync.Mutex
	engines map[string]*engine.Engine
}

var _ Executor = (*engineExecutor)(nil)

func newEngineExecutor(log *slog.Logger, cacheSize int) *engineExecutor {
	x := &engineExecutor{log: log, cacheSize: cacheSize, engines: make(map[string]*engine.Engine)}
	var err error
	if x.breakers, err = breaker.NewRegistry(breaker.Config{}); err != nil {
		log.Warn("fetch runs without circuit breakers", slog.Any("error", err))
	}
	return x
}

func (x *engineExecutor) Execute(ctx context.Context, req Request) Result {
	eng, err := x.engineFor(&req.Limits)
	if err != nil {
		return Result{Err: core.WrapError(core.KindConfiguration, err, "configuring the JavaScript engine")}
	}
	r := eng.Execute(ctx, engine.Request{
		Task: engine.TaskSpec{
			Checksum:     req.Task.Hash,
			Name:         req.Task.Name,
			Version:      req.Task.Version,
			Code:         req.Task.Code,
			InputSchema:  req.Task.InputSchema,
			OutputSchema: req.Task.OutputSchema,
			Timeout:      req.Task.Timeout,
		},
		Input: req.Input,
		Context: engine.ExecContext{
			ExecutionID: req.Context.ExecutionID,
			JobID:       req.Context.JobID,
			TaskID:      req.Context.TaskID,
			TaskName:    req.Context.TaskName,
			TaskVersion: req.Context.TaskVersion,
			Attempt:     req.Context.Attempt,
		},
		Timeout:         req.Limits.Timeout,
		Mocks:           req.Mocks,
		NetworkDisabled: req.NetworkDisabled,
	})
	return Result{Output: r.Output, Err: r.Err, Logs: r.Logs, HTTPRequests: r.HTTPRequests, Duration: r.Duration}
}

func (x *engineExecutor) engineFor(l *Limits) (*engine.Engine, error) {
	cfg := engineConfig(l, x.cacheSize)
	cfg.HTTP.Breakers = x.breakers
	key := limitsKey(l)
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.engines[key]; ok {
		return e, nil
	}
	e, err := engine.New(cfg, x.log)
	if err != nil {
		return nil, err
	}
	if len(x.engines) >= maxEngines {
		clear(x.engines)
	}
	x.engines[key] = e
	return e, nil
}

// engineConfig is the engine configuration that limits describe.
func engineConfig(l *Limits, cacheSize int) engine.Config {
	return engine.Config{
		MaxExecutionDuration: l.MaxDuration,
		SkipSchemaValidation: l.SkipSchemaValidation,
		MaxInputBytes:        int(l.MaxInputBytes),
		MaxOutputBytes:       int(l.MaxOutputBytes),
		MaxLogEntries:        l.MaxLogEntries,
		CacheSize:            cacheSize,
		HTTP: fetch.Config{
			Timeout:            l.HTTP.Timeout,
			MaxRedirects:       l.HTTP.MaxRedirects,
			UserAgent:          l.HTTP.UserAgent,
			InsecureSkipVerify: l.HTTP.InsecureSkipVerify,
			AllowedHosts:       l.HTTP.AllowedHosts,
			DeniedHosts:        l.HTTP.DeniedHosts,
			MaxResponseBytes:   l.HTTP.MaxResponseBytes,
			MaxRequestBytes:    int(l.HTTP.MaxRequestBytes),
		},
	}
}

func limitsKey(l *Limits) string {
	h := l.HTTP
	return fmt.Sprintf("%d|%d|%d|%t|%d|%d|%q|%q|%q|%t|%d|%d|%d",
		l.MaxDuration, l.MaxInputBytes, l.MaxOutputBytes, l.SkipSchemaValidation, l.MaxLogEntries,
		h.Timeout, h.UserAgent, strings.Join(h.AllowedHosts, ","), strings.Join(h.DeniedHosts, ","),
		h.InsecureSkipVerify, h.MaxRedirects, h.MaxResponseBytes, h.MaxRequestBytes)
}

// LimitsOf are the limits of an engine configuration, so that an execution
// in a worker runs under the configuration it would have in process.
// Breakers and Transport cannot cross the process boundary: each worker
// keeps its own circuit breakers (default settings), one per host.
func LimitsOf(cfg engine.Config) Limits {
	return Limits{
		MaxDuration:          cfg.MaxExecutionDuration,
		MaxInputBytes:        int64(cfg.MaxInputBytes),
		MaxOutputBytes:       int64(cfg.MaxOutputBytes),
		SkipSchemaValidation: cfg.SkipSchemaValidation,
		MaxLogEntries:        cfg.MaxLogEntries,
		HTTP: HTTPSettings{
			Timeout:            cfg.HTTP.Timeout,
			UserAgent:          cfg.HTTP.UserAgent,
			AllowedHosts:       cfg.HTTP.AllowedHosts,
			DeniedHosts:        cfg.HTTP.DeniedHosts,
			InsecureSkipVerify: cfg.HTTP.InsecureSkipVerify,
			MaxRedirects:       cfg.HTTP.MaxRedirects,
			MaxResponseBytes:   cfg.HTTP.MaxResponseBytes,
			MaxRequestBytes:    int64(cfg.HTTP.MaxRequestBytes),
		},
	}
}

// NewRequest turns an engine request into one for a worker, under limits
// (see LimitsOf). A Recorder cannot cross the process boundary: a request
// with one is refused (record in process).
func NewRequest(req engine.Request, limits Limits) (Request, error) {
	if req.Recorder != nil {
		return Request{}, core.NewError(core.KindInvalidArgument, "an HTTP recorder cannot be used with a worker process: run the task in process to record")
	}
	limits.Timeout = req.Timeout
	t := req.Task
	hash := t.Checksum
	if hash == "" {
		hash = ContentHash(t.Code, string(t.InputSchema), string(t.OutputSchema), t.Timeout.String())
	}
	return Request{
		Task: Task{
			Hash: hash, ID: req.Context.TaskID, Name: t.Name, Version: t.Version,
			Code: t.Code, InputSchema: t.InputSchema, OutputSchema: t.OutputSchema, Timeout: t.Timeout,
		},
		Input: req.Input,
		Context: ExecContext{
			ExecutionID: req.Context.ExecutionID,
			JobID:       req.Context.JobID,
			TaskID:      req.Context.TaskID,
			TaskName:    req.Context.TaskName,
			TaskVersion: req.Context.TaskVersion,
			Attempt:     req.Context.Attempt,
		},
		Limits:          limits,
		Mocks:           req.Mocks,
		NetworkDisabled: req.NetworkDisabled,
	}, nil
}

// EngineResult is r as the engine would have answered it in process.
func (r Result) EngineResult() engine.Result {
	return engine.Result{Output: r.Output, Err: r.Err, Logs: r.Logs, HTTPRequests: r.HTTPRequests, Duration: r.Duration}
}

// ContentHash hashes the parts of a task's content, for tasks that have no
// checksum of their own.
func ContentHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write([]byte(p))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
