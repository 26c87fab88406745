package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"sort"
	"sync"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/sdk"
)

// Manager discovers, starts and supervises plugin processes, runs their
// tasks and forwards events to them. A plugin that crashes is restarted
// with backoff and reported; no plugin can take the host down. The zero
// value is not usable: call New.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	state   managerState
	plugins []*instance

	superviseCtx  context.Context
	stopSupervise context.CancelFunc
	wg            sync.WaitGroup
	stopped       chan struct{} // closed when every goroutine has returned
}

type managerState int

const (
	managerNew managerState = iota
	managerStarted
	managerStopped
)

// New returns a Manager; Start starts the plugins.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, log: cfg.Logger, stopped: make(chan struct{})}, nil
}

// Start discovers the plugins in Config.Dir, adds Config.Candidates, starts
// each one and returns once each has started or failed its first start
// (or ctx ended). A plugin that fails to start does not fail Start: it is
// reported through Plugins and retried with backoff. Start fails only when
// Dir cannot be read or the manager was already started.
func (m *Manager) Start(ctx context.Context) error {
	cands := slices.Clone(m.cfg.Candidates)
	if m.cfg.Dir != "" {
		found, err := Discover(m.cfg.Dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			m.log.WarnContext(ctx, "plugins dir does not exist; no plugins loaded from it", slog.String("dir", m.cfg.Dir))
		case err != nil:
			return err
		}
		cands = append(cands, found...)
	}

	m.mu.Lock()
	if m.state != managerNew {
		m.mu.Unlock()
		return errors.New("plugin host: Start called twice (or after Stop)")
	}
	m.state = managerStarted
	m.superviseCtx, m.stopSupervise = context.WithCancel(context.WithoutCancel(ctx))
	seen := map[string]bool{}
	for _, c := range cands {
		if seen[c.Path] {
			continue
		}
		seen[c.Path] = true
		in := newInstance(m, c)
		m.plugins = append(m.plugins, in)
	}
	for _, in := range m.plugins {
		m.wg.Go(func() { in.supervise(m.superviseCtx) })
		m.wg.Go(func() { in.deliverEvents(m.superviseCtx) })
	}
	plugins := slices.Clone(m.plugins)
	m.mu.Unlock()

	m.log.InfoContext(ctx, "starting plugins", slog.Int("count", len(plugins)))
	for _, in := range plugins {
		select {
		case <-in.firstStart:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// Stop stops every plugin process (go-plugin asks each to exit, then kills
// it after 2 s) and waits for them and the manager's goroutines until ctx
// ends. It is idempotent and safe before Start. Events still queued are
// dropped.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	switch m.state {
	case managerNew:
		m.state = managerStopped
		close(m.stopped)
		m.mu.Unlock()
		return nil
	case managerStarted:
		m.state = managerStopped
		m.stopSupervise()
		go func() {
			m.wg.Wait()
			close(m.stopped)
		}()
	}
	m.mu.Unlock()
	select {
	case <-m.stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stopping plugins: %w", context.Cause(ctx))
	}
}

// Plugins returns a snapshot of every plugin, in discovery order.
func (m *Manager) Plugins() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.plugins))
	for _, in := range m.plugins {
		out = append(out, in.statusLocked())
	}
	return out
}

// Tasks returns the tasks of every plugin that has described itself (a
// plugin that is restarting keeps its tasks; calls fail until it is back),
// sorted by plugin, then task name.
func (m *Manager) Tasks() []TaskInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []TaskInfo
	for _, in := range m.plugins {
		if in.info == nil || in.state == StateFailed {
			continue
		}
		for _, t := range in.info.Tasks {
			out = append(out, TaskInfo{Plugin: in.info.Name, PluginVersion: in.info.Version, TaskSpec: t})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Plugin != out[j].Plugin {
			return out[i].Plugin < out[j].Plugin
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Execute runs a plugin's task. Its errors:
//   - NotFoundError: no plugin by that name, or it provides no such task;
//   - ServiceUnavailableError: the plugin is not running (restarting,
//     failed, stopped); retryable;
//   - WorkerCrashError (errors.Is(err, sdk.ErrGone)): the plugin process
//     died or its connection broke during the call;
//   - TimeoutError / CancelledError when ctx ended first (or ctx's cause
//     when that is a *core.Error);
//   - otherwise the task's own failure, with the kind the plugin gave.
func (m *Manager) Execute(ctx context.Context, pluginName, task string, input json.RawMessage, ec sdk.ExecContext) (json.RawMessage, *core.Error) {
	m.mu.Lock()
	in := m.findLocked(pluginName)
	if in == nil {
		m.mu.Unlock()
		return nil, core.Errorf(core.KindNotFound, "no plugin named %q", pluginName)
	}
	st, rpc, info, lastErr := in.state, in.rpc, in.info, in.lastErr
	m.mu.Unlock()
	if st != StateRunning || rpc == nil {
		msg := fmt.Sprintf("plugin %s is %s", pluginName, st)
		if lastErr != "" {
			msg += ": " + lastErr
		}
		return nil, core.NewError(core.KindServiceUnavailable, msg).WithDetail("plugin", pluginName)
	}
	if _, ok := info.Task(task); !ok {
		return nil, core.Errorf(core.KindNotFound, "plugin %s provides no task %q", pluginName, task)
	}
	out, err := rpc.Execute(ctx, task, input, ec)
	if err != nil {
		ce, ok := err.(*core.Error)
		if !ok {
			ce = core.WrapError(core.KindInternal, err, "")
		}
		if ce.Kind == core.KindWorkerCrash {
			ce = ce.WithDetail("plugin", pluginName)
		}
		return nil, ce
	}
	return out, nil
}

// Publish queues ev for every plugin that subscribed to its type and
// returns at once. A plugin whose queue is full loses the event (counted
// in Status.EventsDropped). Delivery is at most once, in order per plugin.
func (m *Manager) Publish(ctx context.Context, ev core.Event) {
	m.mu.Lock()
	if m.state != managerStarted {
		m.mu.Unlock()
		return
	}
	var targets []*instance
	for _, in := range m.plugins {
		if in.info != nil && in.state != StateFailed && in.info.Wants(ev.Type) {
			targets = append(targets, in)
		}
	}
	m.mu.Unlock()
	for _, in := range targets {
		select {
		case in.events <- ev:
		default:
			if n := in.dropped.Add(1); n&(n-1) == 0 { // log the 1st, 2nd, 4th, ... drop
				m.log.WarnContext(ctx, "plugin event queue full; event dropped",
					slog.String("plugin", in.cand.Name), slog.String("event", string(ev.Type)), slog.Uint64("dropped_total", n))
			}
		}
	}
}

var _ core.Publisher = (*Manager)(nil)

// findLocked finds a plugin by its described name, or by its file name
// when it has not described itself yet.
func (m *Manager) findLocked(name string) *instance {
	for _, in := range m.plugins {
		if in.name() == name && in.state != StateFailed {
			return in
		}
	}
	for _, in := range m.plugins {
		if in.name() == name {
			return in
		}
	}
	return nil
}

func (m *Manager) notify(in *instance) {
	if m.cfg.OnStatusChange == nil {
		return
	}
	m.mu.Lock()
	st := in.statusLocked()
	m.mu.Unlock()
	m.cfg.OnStatusChange(st)
}
