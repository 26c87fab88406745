package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/resilience/lifecycle"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// DefaultDebounce is the debounce of a watched source that sets none.
const DefaultDebounce = 500 * time.Millisecond

// SourceAPI is the source of tasks created through the API.
const SourceAPI = "api"

// Source is one registry source (registry.sources[i] in the config).
type Source struct {
	// Name labels the source in logs and status; default: its URI.
	Name string
	// URI is a file:// URI or a path: a task folder, a task .zip, or a
	// folder of tasks and zips. Tasks loaded from it record it as their
	// source.
	URI string
	// Watch reloads changed tasks while running.
	Watch bool
	// Debounce is how long a watched source must be quiet before its
	// changes are reloaded. Default DefaultDebounce.
	Debounce time.Duration
	// IgnorePatterns are globs matched against paths relative to the
	// source, their parent folders and base names ("*.tmp", ".git/**",
	// "node_modules").
	IgnorePatterns []string
}

// SourceFromConfig maps registry.sources[i] of the configuration.
func SourceFromConfig(s config.RegistrySource) Source {
	return Source{
		Name:           s.Name,
		URI:            s.URI,
		Watch:          s.Config.Watch,
		Debounce:       time.Duration(s.Config.DebounceMS) * time.Millisecond,
		IgnorePatterns: s.Config.IgnorePatterns,
	}
}

// SourcesFromConfig maps the registry section of the configuration.
func SourcesFromConfig(c config.RegistryConfig) []Source {
	out := make([]Source, 0, len(c.Sources))
	for _, s := range c.Sources {
		out = append(out, SourceFromConfig(s))
	}
	return out
}

// Config configures a Registry.
type Config struct {
	Sources []Source
	// OnChange, when set, receives the changes of every load, reload and
	// API operation that changed something (every kind but TaskUnchanged).
	// It is called synchronously, on the goroutine that made the change,
	// and must not block for long.
	OnChange func(ctx context.Context, changes []Change)
}

// ChangeKind says what happened to a task.
type ChangeKind string

const (
	// TaskCreated: a new task and its first version.
	TaskCreated ChangeKind = "created"
	// TaskNewVersion: the task's content changed; a version was added.
	TaskNewVersion ChangeKind = "new_version"
	// TaskUpdated: the task's fields or state changed without a new
	// version (a load error was cleared, a removed task came back).
	TaskUpdated ChangeKind = "updated"
	// TaskUnchanged: the task loaded with the same content.
	TaskUnchanged ChangeKind = "unchanged"
	// TaskFailed: the task did not load; Err says why and, when the task
	// is owned by the source, its load_error records it.
	TaskFailed ChangeKind = "failed"
	// TaskRemoved: the task's folder or zip is gone; the task is disabled.
	TaskRemoved ChangeKind = "removed"
	// TaskDeleted: the task was deleted through the API.
	TaskDeleted ChangeKind = "deleted"
)

// Change is what happened to one task.
type Change struct {
	Kind ChangeKind
	// Task is the task after the change (before it, for TaskDeleted). It
	// is the zero Task when a failed task has no row (a name clash).
	Task core.Task
	// PreviousChecksum is the checksum the task had before a
	// TaskNewVersion, TaskRemoved or TaskDeleted change.
	PreviousChecksum string
	// Source is the source's URI, or SourceAPI.
	Source string
	// Path is the task's folder or zip, empty for API operations.
	Path string
	// Err is why a TaskFailed task did not load.
	Err error
}

// SourceStatus describes a source after its latest load.
type SourceStatus struct {
	Name     string
	URI      string
	Path     string
	Watching bool
	// LoadedAt is when the source was last loaded (fully or in part).
	LoadedAt time.Time
	// Tasks counts the tasks that loaded, Failed those that did not.
	Tasks, Failed int
	// Error says why the source itself could not be read, if it could not.
	Error string
}

// Registry loads tasks from sources into the database. Its methods are
// safe for concurrent use.
type Registry struct {
	store    *sqlstore.Store
	log      *slog.Logger
	onChange func(context.Context, []Change)
	sources  []*source

	// loadMu serialises loads (Start, Reload, watch reloads).
	loadMu sync.Mutex

	stateMu  sync.Mutex
	started  bool
	stopped  bool
	runner   *lifecycle.Runner
	watchers []*watcher
}

// source is a Source with its resolved path and loading state.
type source struct {
	Source
	root   string
	ignore matcher

	// Guarded by Registry.loadMu.
	single bool                 // the root is one task
	units  map[string]unitState // task folder or zip -> what it loaded as
	status SourceStatus
}

// New checks cfg and returns a registry over store. It reads nothing until
// Start or Reload.
func New(store *sqlstore.Store, cfg Config, logger *slog.Logger) (*Registry, error) {
	if store == nil {
		return nil, errors.New("registry.New: store is nil: pass the *sqlstore.Store opened by the composition root")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Registry{
		store:    store,
		log:      logger.With(slog.String("component", "registry")),
		onChange: cfg.OnChange,
	}
	uris := map[string]int{}
	for i, s := range cfg.Sources {
		src, err := newSource(s)
		if err != nil {
			return nil, core.Errorf(core.KindConfiguration, "registry.sources[%d]: %w", i, err)
		}
		if j, dup := uris[src.URI]; dup {
			return nil, core.Errorf(core.KindConfiguration, "registry.sources[%d]: uri %q is also registry.sources[%d]'s", i, src.URI, j)
		}
		uris[src.URI] = i
		r.sources = append(r.sources, src)
	}
	r.runner = lifecycle.NewRunner(r.run)
	return r, nil
}

func newSource(s Source) (*source, error) {
	s.URI = strings.TrimSpace(s.URI)
	p, err := sourcePath(s.URI)
	if err != nil {
		return nil, err
	}
	if s.Debounce < 0 {
		return nil, fmt.Errorf("debounce must not be negative")
	}
	if s.Debounce == 0 {
		s.Debounce = DefaultDebounce
	}
	if s.Name == "" {
		s.Name = s.URI
	}
	m, err := newMatcher(s.IgnorePatterns)
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("resolving %q: %w", p, err)
	}
	return &source{
		Source: s, root: root, ignore: m, units: map[string]unitState{},
		status: SourceStatus{Name: s.Name, URI: s.URI, Path: root},
	}, nil
}

// sourcePath turns a source URI into a path.
func sourcePath(uri string) (string, error) {
	switch {
	case uri == "":
		return "", errors.New("uri is empty: give a file:// URI or a path to a task, a folder of tasks or a zip")
	case strings.HasPrefix(uri, "file://"):
		p := strings.TrimPrefix(uri, "file://")
		if strings.HasPrefix(p, "localhost/") {
			p = strings.TrimPrefix(p, "localhost")
		}
		if p == "" {
			return "", fmt.Errorf("uri %q names no path", uri)
		}
		return filepath.FromSlash(p), nil
	case strings.Contains(uri, "://"):
		return "", fmt.Errorf("uri %q: only file:// URIs and paths are supported", uri)
	}
	return uri, nil
}

// Start loads every source into the database, then watches the sources
// that ask for it until Stop (or until ctx ends: pass a context that lives
// as long as the registry). Tasks that do not load are recorded and do not
// make Start fail; a database error does.
func (r *Registry) Start(ctx context.Context) error {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	switch {
	case r.stopped:
		return lifecycle.ErrStopped
	case r.started:
		return lifecycle.ErrAlreadyStarted
	}
	// Watch first, so that nothing written during the load is missed.
	for _, src := range r.sources {
		if !src.Watch {
			continue
		}
		w, err := r.newWatcher(src)
		if err != nil {
			r.log.ErrorContext(ctx, "cannot watch registry source: changes will need a reload",
				slog.String("source", src.Name), slog.String("error", err.Error()))
			continue
		}
		r.watchers = append(r.watchers, w)
	}
	if _, err := r.Reload(ctx); err != nil {
		r.closeWatchers()
		return err
	}
	r.started = true
	if len(r.watchers) == 0 {
		return nil
	}
	return r.runner.Start(ctx)
}

// Stop ends the watchers, letting a reload in progress finish unless ctx
// ends first. It is idempotent and safe before Start.
func (r *Registry) Stop(ctx context.Context) error {
	r.stateMu.Lock()
	r.stopped = true
	r.stateMu.Unlock()
	err := r.runner.Drain(ctx)
	r.closeWatchers()
	return err
}

func (r *Registry) closeWatchers() {
	for _, w := range r.watchers {
		_ = w.fs.Close()
	}
}

func (r *Registry) run(ctx context.Context, stopping <-chan struct{}) error {
	var wg sync.WaitGroup
	for _, w := range r.watchers {
		wg.Go(func() { r.watch(ctx, stopping, w) })
	}
	wg.Wait()
	return nil
}

// Reload loads every source again and returns what happened to each task.
// It fails only on database errors.
func (r *Registry) Reload(ctx context.Context) ([]Change, error) {
	r.loadMu.Lock()
	var (
		all  []Change
		errs []error
	)
	for _, src := range r.sources {
		changes, err := r.loadSource(ctx, src)
		all = append(all, changes...)
		if err != nil {
			errs = append(errs, fmt.Errorf("registry source %s: %w", src.Name, err))
		}
	}
	r.loadMu.Unlock()
	r.notify(ctx, all)
	return all, errors.Join(errs...)
}

// Sources reports the state of every source.
func (r *Registry) Sources() []SourceStatus {
	watching := r.watched()
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	out := make([]SourceStatus, len(r.sources))
	for i, src := range r.sources {
		out[i] = src.status
		out[i].Watching = watching[src]
	}
	return out
}

// watched returns the sources being watched.
func (r *Registry) watched() map[*source]bool {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	out := map[*source]bool{}
	if r.started && !r.stopped {
		for _, w := range r.watchers {
			out[w.src] = true
		}
	}
	return out
}

func (r *Registry) notify(ctx context.Context, changes []Change) {
	if r.onChange == nil {
		return
	}
	var out []Change
	for _, c := range changes {
		if c.Kind != TaskUnchanged {
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		r.onChange(ctx, out)
	}
}

// configured reports whether uri is one of the configured sources.
func (r *Registry) configured(uri string) bool {
	for _, src := range r.sources {
		if src.URI == uri {
			return true
		}
	}
	return false
}

// owns reports whether src may write task t.
func (r *Registry) owns(src *source, t core.Task) bool {
	if t.Source == src.URI {
		return true
	}
	return registrySource(t.Source) && !r.configured(t.Source)
}

// registrySource reports whether a task's source names a registry source
// (not the API, a plugin, or nothing).
func registrySource(s string) bool {
	return s != "" && s != SourceAPI && !strings.HasPrefix(s, "plugin:")
}

var _ lifecycle.Component = (*Registry)(nil)
