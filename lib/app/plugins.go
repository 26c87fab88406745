package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/host"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// pluginEvents are the lifecycle events plugins may receive (SPEC §4.5).
var pluginEvents = []core.EventType{
	core.EventJobQueued, core.EventJobStarted, core.EventJobCompleted,
	core.EventJobFailed, core.EventExecutionFinished,
}

// PluginStatus is a plugin's state with the problems registering its
// tasks met (a task name taken by a JS task or another plugin's).
type PluginStatus struct {
	host.Status
	LoadErrors []string `json:"load_errors,omitempty"`
}

// plugins runs the plugin host for the app: it starts the plugins of
// plugins.dir, registers their tasks in the database (again after each
// restart of a plugin) and forwards the bus's lifecycle events to them.
// It is a lifecycle component.
type plugins struct {
	m     *host.Manager
	store *sqlstore.Store
	sub   core.Subscriber
	// node is this node's name: each node's plugins hear that node's
	// events only, so a cluster delivers each event to plugins once.
	node string
	log  *slog.Logger

	// resync asks the loop to register the tasks of running plugins again.
	resync chan struct{}

	// syncMu serialises task registrations.
	syncMu     sync.Mutex
	loadErrors map[string][]string // by plugin name; guarded by errMu
	errMu      sync.Mutex

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newPlugins builds the plugin host from plugins.*; nil when plugins are
// not enabled.
func newPlugins(cfg config.PluginsConfig, node string, store *sqlstore.Store, sub core.Subscriber, log *slog.Logger) (*plugins, error) {
	if !cfg.Enabled || cfg.Dir == "" {
		return nil, nil
	}
	p := &plugins{node: node, store: store, sub: sub, log: log.With(slog.String("component", "plugins")),
		resync: make(chan struct{}, 1), loadErrors: map[string][]string{}}
	m, err := host.New(host.Config{
		Dir:    cfg.Dir,
		Logger: log,
		OnStatusChange: func(st host.Status) {
			if st.State == host.StateRunning {
				select {
				case p.resync <- struct{}{}:
				default:
				}
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	p.m = m
	return p, nil
}

// Start starts the plugins, registers their tasks and starts forwarding
// events.
func (p *plugins) Start(ctx context.Context) error {
	if err := p.m.Start(ctx); err != nil {
		return fmt.Errorf("starting plugins: %w", err)
	}
	if err := p.registerTasks(ctx); err != nil {
		// Reported, not fatal: the next restart of a plugin tries again.
		p.log.ErrorContext(ctx, "registering plugin tasks failed", slog.String("error", err.Error()))
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	events, unsubscribe := p.sub.Subscribe(lctx, func(ev core.Event) bool {
		return slices.Contains(pluginEvents, ev.Type) && (ev.Node == "" || ev.Node == p.node)
	})
	p.wg.Go(func() {
		defer unsubscribe()
		for ev := range events {
			p.m.Publish(lctx, ev)
		}
	})
	p.wg.Go(func() {
		for {
			select {
			case <-lctx.Done():
				return
			case <-p.resync:
				if err := p.registerTasks(lctx); err != nil && lctx.Err() == nil {
					p.log.ErrorContext(lctx, "registering plugin tasks failed", slog.String("error", err.Error()))
				}
			}
		}
	})
	return nil
}

// Stop stops forwarding events and stops the plugins.
func (p *plugins) Stop(ctx context.Context) error {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	return p.m.Stop(ctx)
}

// kill stops the plugins without waiting long (App.Kill).
func (p *plugins) kill() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.Stop(ctx)
}

// statuses returns every plugin's state with its registration problems.
func (p *plugins) statuses() []PluginStatus {
	sts := p.m.Plugins()
	p.errMu.Lock()
	defer p.errMu.Unlock()
	out := make([]PluginStatus, 0, len(sts))
	for _, st := range sts {
		out = append(out, PluginStatus{Status: st, LoadErrors: slices.Clone(p.loadErrors[st.Name])})
	}
	return out
}

// pluginTaskChecksum identifies the content of a plugin task's version:
// its plugin's name and version, its name and version, and its schemas.
func pluginTaskChecksum(ti host.TaskInfo) string {
	h := sha256.New()
	for _, s := range []string{"ratchet-plugin-task-v1", ti.Plugin, ti.PluginVersion, ti.Name, ti.Version,
		string(ti.InputSchema), string(ti.OutputSchema)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// registerTasks saves the tasks of every plugin that described itself as
// tasks with source "plugin:<name>". A task whose name belongs to another
// source (a JS task, another plugin) is not overwritten: it is reported as
// a load error of the plugin.
func (p *plugins) registerTasks(ctx context.Context) error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	problems := map[string][]string{}
	var errs []error
	for _, ti := range p.m.Tasks() {
		msg, err := p.registerTask(ctx, ti)
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin %s task %s: %w", ti.Plugin, ti.Name, err))
			continue
		}
		if msg != "" {
			problems[ti.Plugin] = append(problems[ti.Plugin], msg)
		}
	}
	p.errMu.Lock()
	p.loadErrors = problems
	p.errMu.Unlock()
	return errors.Join(errs...)
}

// registerTask saves one task; msg is why it was refused.
func (p *plugins) registerTask(ctx context.Context, ti host.TaskInfo) (msg string, err error) {
	t := ti.CoreTask()
	v := core.TaskVersion{
		Version: t.Version, Checksum: pluginTaskChecksum(ti),
		InputSchema: t.InputSchema, OutputSchema: t.OutputSchema, Metadata: t.Metadata,
	}
	t.Checksum = v.Checksum
	log := p.log.With(slog.String("plugin", ti.Plugin), slog.String("task", t.Name))
	for attempt := 0; ; attempt++ {
		cur, err := p.store.Tasks().GetByName(ctx, t.Name)
		found := err == nil
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return "", err
		}
		if found && cur.Source != t.Source {
			msg := fmt.Sprintf("task %s not registered: a task of that name comes from %q", t.Name, cur.Source)
			log.ErrorContext(ctx, "plugin task clashes with an existing task", slog.String("existing_source", cur.Source))
			return msg, nil
		}
		if found {
			if cur.Checksum == v.Checksum && cur.LoadError == "" && cur.Description == t.Description {
				return "", nil
			}
			t.Enabled = cur.Enabled // keep the flag a user set
		}
		saved, res, err := p.store.Tasks().Save(ctx, t, v)
		if errors.Is(err, core.ErrConflict) && attempt == 0 {
			continue // created meanwhile (another node): read it again
		}
		if err != nil {
			return "", err
		}
		log.InfoContext(ctx, "plugin task registered", slog.Int64("task_id", saved.ID),
			slog.String("version", saved.Version), slog.String("result", string(res)))
		return "", nil
	}
}

// PluginHost is the plugin manager; nil unless plugins.enabled.
func (a *App) PluginHost() *host.Manager {
	if a.plugins == nil {
		return nil
	}
	return a.plugins.m
}

// Plugins returns every plugin's state with the problems registering its
// tasks met; nil unless plugins.enabled.
func (a *App) Plugins() []PluginStatus {
	if a.plugins == nil {
		return nil
	}
	return a.plugins.statuses()
}
