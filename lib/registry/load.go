package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// removedPrefix starts the load_error of a task whose folder or zip left its
// source; it tells a task disabled by the registry from one a user disabled.
const removedPrefix = "removed from registry source "

func isRemoved(t core.Task) bool { return !t.Enabled && strings.HasPrefix(t.LoadError, removedPrefix) }

// unitState is what the registry knows of one task folder or zip.
type unitState struct {
	name   string // the task it loaded as ("" when it has none)
	failed bool
}

// taskUnits lists the task folders and zips of a source, and whether the
// source is itself one task.
func (src *source) taskUnits() (units []string, single bool, err error) {
	st, err := os.Stat(src.root)
	if err != nil {
		return nil, false, err
	}
	if taskfmt.IsTask(src.root) {
		return []string{src.root}, true, nil
	}
	if !st.IsDir() {
		return nil, false, fmt.Errorf("%s is not a task: expected a folder or a .zip file", src.root)
	}
	entries, err := os.ReadDir(src.root)
	if err != nil {
		return nil, false, err
	}
	for _, e := range entries {
		if src.skip(e.Name()) {
			continue
		}
		if p := filepath.Join(src.root, e.Name()); taskfmt.IsTask(p) {
			units = append(units, p)
		}
	}
	sort.Strings(units)
	return units, false, nil
}

// skip reports whether an entry of the source folder is not considered.
func (src *source) skip(name string) bool {
	return strings.HasPrefix(name, ".") || src.ignore.Ignored(name)
}

// loadSource loads every task of src and disables the tasks of src that
// are gone. The caller holds loadMu.
func (r *Registry) loadSource(ctx context.Context, src *source) ([]Change, error) {
	src.status.LoadedAt = time.Now().UTC()
	src.status.Error = ""
	units, single, err := src.taskUnits()
	if err != nil {
		src.status.Error = err.Error()
		if !errors.Is(err, os.ErrNotExist) {
			r.log.ErrorContext(ctx, "cannot read registry source", slog.String("source", src.Name), slog.String("error", err.Error()))
			return nil, nil
		}
		r.log.WarnContext(ctx, "registry source does not exist: its tasks are disabled",
			slog.String("source", src.Name), slog.String("path", src.root))
	}
	src.single = single
	src.units = map[string]unitState{}
	names := map[string]string{}
	var changes []Change
	for _, u := range units {
		ch, err := r.loadUnit(ctx, src, u, names)
		if err != nil {
			return changes, err
		}
		changes = append(changes, ch)
	}
	removed, err := r.removeMissing(ctx, src, names)
	changes = append(changes, removed...)
	src.updateStatus()
	return changes, err
}

func (src *source) updateStatus() {
	src.status.Tasks, src.status.Failed = 0, 0
	for _, u := range src.units {
		if u.failed {
			src.status.Failed++
		} else {
			src.status.Tasks++
		}
	}
}

// reloadPaths reloads the tasks that changed paths (relative to the source
// root, slash-separated) belong to: the watch reload. The caller holds
// loadMu.
func (r *Registry) reloadPaths(ctx context.Context, src *source, rels map[string]bool) ([]Change, error) {
	single := taskfmt.IsTask(src.root)
	if rels["."] || single || single != src.single {
		return r.loadSource(ctx, src)
	}
	src.status.LoadedAt = time.Now().UTC()
	affected := map[string]bool{}
	for rel := range rels {
		first, _, _ := strings.Cut(rel, "/")
		if !src.skip(first) {
			affected[filepath.Join(src.root, filepath.FromSlash(first))] = true
		}
	}
	paths := make([]string, 0, len(affected))
	for p := range affected {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	// names are the task names of the other folders, for clashes.
	names := map[string]string{}
	for p, u := range src.units {
		if !affected[p] && u.name != "" {
			names[u.name] = p
		}
	}
	// Load first, then disable the tasks no folder has any more, so that a
	// task whose folder was renamed is not removed and restored.
	var changes []Change
	oldNames := map[string]string{}
	for _, p := range paths {
		if old := src.units[p]; old.name != "" {
			oldNames[old.name] = p
		}
		delete(src.units, p)
		if !taskfmt.IsTask(p) {
			continue
		}
		ch, err := r.loadUnit(ctx, src, p, names)
		if err != nil {
			return changes, err
		}
		changes = append(changes, ch)
	}
	for name, p := range oldNames {
		if _, used := names[name]; used {
			continue
		}
		ch, ok, err := r.removeByName(ctx, src, name, p)
		if err != nil {
			return changes, err
		}
		if ok {
			changes = append(changes, ch)
		}
	}
	src.updateStatus()
	return changes, nil
}

// loadUnit loads the task folder or zip p of src and saves it. names maps
// the task names taken by other folders of the source to their folders; p's
// name is added. Problems with the task are reported in the Change; only
// database errors are returned.
func (r *Registry) loadUnit(ctx context.Context, src *source, p string, names map[string]string) (Change, error) {
	defName, files, err := taskfmt.ReadFiles(p)
	if err != nil {
		return r.recordFailure(ctx, src, p, defName, files, problemOf(err).String(), names)
	}
	t, inv := parseFiles(defName, files)
	if inv != nil {
		return r.recordFailure(ctx, src, p, defName, files, inv.Error(), names)
	}
	log := r.log.With(slog.String("source", src.Name), slog.String("task", t.Name))
	ch := Change{Source: src.URI, Path: p}
	if other, dup := names[t.Name]; dup {
		ch.Kind, ch.Err = TaskFailed, fmt.Errorf("task %s in %s: the name is also used by %s; skipped", t.Name, p, other)
		log.ErrorContext(ctx, "task name clash in registry source", slog.String("path", p), slog.String("other", other))
		src.units[p] = unitState{failed: true}
		return ch, nil
	}
	names[t.Name] = p
	src.units[p] = unitState{name: t.Name}

	v := toVersion(t, files)
	task := toTask(t, src.URI, v)
	for attempt := 0; ; attempt++ {
		cur, err := r.store.Tasks().GetByName(ctx, t.Name)
		found := err == nil
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return ch, err
		}
		if found && !r.owns(src, cur) {
			ch.Kind, ch.Task = TaskFailed, cur
			ch.Err = fmt.Errorf("task %s in %s: a task of that name comes from %q; skipped", t.Name, p, cur.Source)
			log.ErrorContext(ctx, "registry task clashes with an existing task", slog.String("path", p), slog.String("existing_source", cur.Source))
			src.units[p] = unitState{name: t.Name, failed: true}
			return ch, nil
		}
		if found {
			// Keep the flag a user set, but enable a task that was removed
			// or had never loaded.
			task.Enabled = cur.Enabled || cur.Checksum == "" || isRemoved(cur)
			if cur.Checksum == v.Checksum && cur.LoadError == "" && cur.Source == src.URI && cur.Enabled == task.Enabled {
				ch.Kind, ch.Task = TaskUnchanged, cur
				return ch, nil
			}
		}
		saved, res, err := r.store.Tasks().Save(ctx, task, v)
		if errors.Is(err, core.ErrConflict) && attempt == 0 {
			continue // another node created it meanwhile: read it again
		}
		if err != nil {
			if k := core.KindOf(err); k == core.KindConflict || k == core.KindInvalidArgument {
				ch.Kind, ch.Err = TaskFailed, fmt.Errorf("task %s in %s: %w", t.Name, p, err)
				log.ErrorContext(ctx, "registry task cannot be saved", slog.String("error", err.Error()))
				src.units[p] = unitState{name: t.Name, failed: true}
				return ch, nil
			}
			return ch, err
		}
		ch.Task = saved
		switch {
		case !found || cur.Checksum == "":
			ch.Kind = TaskCreated
			log.InfoContext(ctx, "task loaded", slog.Int64("task_id", saved.ID), slog.String("version", saved.Version))
		case res == sqlstore.TaskNewVersion:
			ch.Kind, ch.PreviousChecksum = TaskNewVersion, cur.Checksum
			log.InfoContext(ctx, "task changed: new version", slog.Int64("task_id", saved.ID), slog.String("version", saved.Version))
		default:
			ch.Kind = TaskUpdated
			if cur.LoadError != "" {
				log.InfoContext(ctx, "task loads again", slog.Int64("task_id", saved.ID))
			}
		}
		return ch, nil
	}
}

// recordFailure records that the task at p did not load.
func (r *Registry) recordFailure(ctx context.Context, src *source, p, defName string, files map[string][]byte, msg string, names map[string]string) (Change, error) {
	name, id := identity(p, defName, files)
	ch := Change{Kind: TaskFailed, Source: src.URI, Path: p, Err: errors.New(msg)}
	log := r.log.With(slog.String("source", src.Name), slog.String("path", p), slog.String("task", name))
	log.WarnContext(ctx, "task does not load", slog.String("error", msg))
	src.units[p] = unitState{failed: true}
	if name == "" {
		return ch, nil
	}
	if other, dup := names[name]; dup {
		ch.Err = fmt.Errorf("%s (and the name %q is also used by %s)", msg, name, other)
		return ch, nil
	}
	names[name] = p
	src.units[p] = unitState{name: name, failed: true}

	cur, err := r.store.Tasks().GetByName(ctx, name)
	switch {
	case errors.Is(err, core.ErrNotFound):
		created, err := r.store.Tasks().Create(ctx, core.Task{
			Name: name, UUID: id, Label: name, Source: src.URI, LoadError: msg, Enabled: false,
		}, nil)
		if k := core.KindOf(err); k == core.KindConflict || k == core.KindInvalidArgument {
			ch.Err = fmt.Errorf("%s (and it cannot be recorded: %w)", msg, err)
			return ch, nil
		}
		ch.Task = created
		return ch, err
	case err != nil:
		return ch, err
	case !r.owns(src, cur):
		ch.Task = cur
		ch.Err = fmt.Errorf("%s (and a task of that name comes from %q)", msg, cur.Source)
		return ch, nil
	case cur.LoadError == msg && cur.Source == src.URI:
		ch.Task = cur
		return ch, nil
	}
	if cur.Source != src.URI || isRemoved(cur) {
		// Taken over from a source no longer configured, or back after a
		// removal: its last good version runs again.
		cur.Enabled = cur.Enabled || isRemoved(cur)
		cur.Source, cur.LoadError = src.URI, msg
		ch.Task, err = r.store.Tasks().Update(ctx, cur)
		return ch, err
	}
	if err := r.store.Tasks().SetLoadError(ctx, cur.ID, msg); err != nil {
		return ch, err
	}
	cur.LoadError = msg
	ch.Task = cur
	return ch, nil
}

// identity finds the name and uuid of a task that does not load: those of
// its metadata.json when it can be read, else the folder or zip name.
func identity(p, defName string, files map[string][]byte) (name, id string) {
	var meta struct {
		Name any `json:"name"`
		UUID any `json:"uuid"`
	}
	if raw, ok := files[taskfmt.MetadataFile]; ok {
		_ = json.Unmarshal(raw, &meta)
	} else if files == nil && !taskfmt.IsZip(p) {
		if raw, err := os.ReadFile(filepath.Join(p, taskfmt.MetadataFile)); err == nil {
			_ = json.Unmarshal(raw, &meta)
		}
	}
	if s, ok := meta.Name.(string); ok && strings.TrimSpace(s) != "" {
		name = strings.TrimSpace(s)
	} else {
		name = strings.TrimSpace(defName)
		if name == "" {
			name = strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
			if !taskfmt.IsZip(p) {
				name = filepath.Base(p)
			}
		}
	}
	if s, ok := meta.UUID.(string); ok {
		if u, err := uuid.Parse(s); err == nil {
			return name, u.String()
		}
	}
	return name, taskfmt.UUIDFor(name)
}

// removeMissing disables the tasks of src that are not in names.
func (r *Registry) removeMissing(ctx context.Context, src *source, names map[string]string) ([]Change, error) {
	var changes []Change
	q := core.ListQuery{
		Filters: []core.Filter{{Field: "source", Op: core.OpEq, Values: []string{src.URI}}},
		Sort:    []core.SortField{{Field: "id"}},
		Limit:   core.MaxPageSize,
	}
	var gone []core.Task
	for {
		page, err := r.store.Tasks().List(ctx, q)
		if err != nil {
			return changes, err
		}
		for _, t := range page.Items {
			if _, ok := names[t.Name]; !ok && !isRemoved(t) {
				gone = append(gone, t)
			}
		}
		q.Offset += len(page.Items)
		if len(page.Items) < q.Limit || int64(q.Offset) >= int64(page.Total) {
			break
		}
	}
	for _, t := range gone {
		ch, err := r.markRemoved(ctx, src, t, "")
		if err != nil {
			return changes, err
		}
		changes = append(changes, ch)
	}
	return changes, nil
}

// removeByName disables the task named name when src owns it.
func (r *Registry) removeByName(ctx context.Context, src *source, name, p string) (Change, bool, error) {
	t, err := r.store.Tasks().GetByName(ctx, name)
	if errors.Is(err, core.ErrNotFound) {
		return Change{}, false, nil
	}
	if err != nil {
		return Change{}, false, err
	}
	if t.Source != src.URI || isRemoved(t) {
		return Change{}, false, nil
	}
	ch, err := r.markRemoved(ctx, src, t, p)
	return ch, err == nil, err
}

func (r *Registry) markRemoved(ctx context.Context, src *source, t core.Task, p string) (Change, error) {
	prev := t.Checksum
	t.Enabled = false
	t.LoadError = removedPrefix + src.URI + ": its folder or zip is gone; the task is disabled and comes back when it reappears"
	updated, err := r.store.Tasks().Update(ctx, t)
	if errors.Is(err, core.ErrNotFound) {
		return Change{Kind: TaskDeleted, Task: t, Source: src.URI, Path: p}, nil
	}
	if err != nil {
		return Change{}, err
	}
	r.log.InfoContext(ctx, "task removed from its registry source: disabled",
		slog.String("source", src.Name), slog.String("task", t.Name), slog.Int64("task_id", t.ID))
	return Change{Kind: TaskRemoved, Task: updated, PreviousChecksum: prev, Source: src.URI, Path: p}, nil
}
