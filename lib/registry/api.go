package registry

import (
	"context"
	"strings"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// Validate parses a task's files as CreateFromFiles would, without storing
// anything. name is the default name when metadata.json gives none. The
// error is an *InvalidTaskError listing every problem found.
func Validate(name string, files map[string][]byte) error {
	if _, inv := parseFiles(strings.TrimSpace(name), files); inv != nil {
		return inv
	}
	return nil
}

// CreateFromFiles creates a task from uploaded files, keyed as in a task
// folder ("metadata.json", "main.js", "input.schema.json",
// "output.schema.json", "tests/NAME.json"; other files are ignored). name
// is the task's name; it may be empty when metadata.json names the task,
// and must match it otherwise. Files that make no task give an
// *InvalidTaskError (an InvalidArgument listing the problems); a name or
// uuid in use gives a Conflict. The task's source is SourceAPI.
func (r *Registry) CreateFromFiles(ctx context.Context, name string, files map[string][]byte) (core.Task, error) {
	name = strings.TrimSpace(name)
	t, inv := parseFiles(name, files)
	if inv != nil {
		return core.Task{}, inv
	}
	if name != "" && t.Name != name {
		return core.Task{}, core.Errorf(core.KindInvalidArgument,
			"the task name %q differs from the name %q in metadata.json: give one of them, or the same", name, t.Name).
			WithDetail("field", "name")
	}
	v := toVersion(t, files)
	created, err := r.store.Tasks().Create(ctx, toTask(t, SourceAPI, v), &v)
	if err != nil {
		return core.Task{}, err
	}
	r.notify(ctx, []Change{{Kind: TaskCreated, Task: created, Source: SourceAPI}})
	return created, nil
}

// UpdateFromFiles replaces the content of the task ref names (its id, uuid
// or name) with files: a new version when the content changed. The files
// are the whole task (see VersionFiles to change one of them); a name in
// metadata.json other than the task's renames it. The task's enabled flag
// and uuid are kept and its source becomes SourceAPI. Tasks loaded from a
// configured registry source, or provided by a plugin, cannot be updated
// (Conflict): change their files on disk.
func (r *Registry) UpdateFromFiles(ctx context.Context, ref string, files map[string][]byte) (core.Task, error) {
	cur, err := r.store.Tasks().GetByRef(ctx, ref)
	if err != nil {
		return core.Task{}, err
	}
	switch {
	case strings.HasPrefix(cur.Source, "plugin:"):
		return core.Task{}, core.Errorf(core.KindConflict, "task %s is provided by %s and cannot be changed through the API", cur.Name, cur.Source)
	case registrySource(cur.Source) && r.configured(cur.Source):
		return core.Task{}, core.Errorf(core.KindConflict,
			"task %s is loaded from registry source %s: change its files there (an upload would be overwritten at the next reload)", cur.Name, cur.Source)
	}
	t, inv := parseFiles(cur.Name, files)
	if inv != nil {
		return core.Task{}, inv
	}
	v := toVersion(t, files)
	task := toTask(t, SourceAPI, v)
	task.Enabled = cur.Enabled
	var (
		saved core.Task
		res   sqlstore.SaveResult
	)
	err = r.store.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
		if t.Name != cur.Name {
			renamed := cur
			renamed.Name = t.Name
			if _, err := tx.Tasks().Update(ctx, renamed); err != nil {
				return err
			}
		}
		var err error
		saved, res, err = tx.Tasks().Save(ctx, task, v)
		return err
	})
	if err != nil {
		return core.Task{}, err
	}
	ch := Change{Task: saved, Source: SourceAPI}
	switch {
	case res == sqlstore.TaskNewVersion:
		ch.Kind, ch.PreviousChecksum = TaskNewVersion, cur.Checksum
	case cur.LoadError != "" || cur.Source != SourceAPI || cur.Name != saved.Name:
		ch.Kind = TaskUpdated
	default:
		ch.Kind = TaskUnchanged
	}
	r.notify(ctx, []Change{ch})
	return saved, nil
}

// Delete deletes the task ref names (its id, uuid or name) with its
// versions, schedules and finished jobs and executions; unfinished jobs
// make it a ConflictError. A task whose folder is still in
// a registry source comes back at the next reload of that folder.
func (r *Registry) Delete(ctx context.Context, ref string) error {
	cur, err := r.store.Tasks().GetByRef(ctx, ref)
	if err != nil {
		return err
	}
	if err := r.store.Tasks().Delete(ctx, cur.ID); err != nil {
		return err
	}
	r.notify(ctx, []Change{{Kind: TaskDeleted, Task: cur, PreviousChecksum: cur.Checksum, Source: cur.Source}})
	return nil
}
