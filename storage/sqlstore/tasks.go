package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/ratchet-go/ratchet/core"
)

// TaskRepo stores tasks and their content versions.
type TaskRepo struct{ s *Store }

// Tasks returns the task repository.
func (s *Store) Tasks() TaskRepo { return TaskRepo{s} }

var taskResource = &resource{
	name: "tasks",
	fields: map[string]field{
		"id": idField("id"), "uuid": textField("uuid"), "name": textField("name"),
		"label": textField("label"), "version": textField("version"),
		"description": textField("description"), "enabled": boolField("enabled"),
		"source": textField("source"), "load_error": textField("load_error"),
		"author": textField("author"), "checksum": textField("checksum"),
		"created_at": timeField("created_at"), "updated_at": timeField("updated_at"),
	},
	search:      []string{"name", "label", "description"},
	defaultSort: []core.SortField{{Field: "name"}},
}

// SaveResult says what TaskRepo.Save did.
type SaveResult string

const (
	TaskCreated    SaveResult = "created"
	TaskNewVersion SaveResult = "new_version"
	TaskUnchanged  SaveResult = "unchanged"
)

// Checksum is the content checksum of a task version: SHA-256 over its
// code and schemas. Save and Create fill it when a version has none.
func Checksum(v core.TaskVersion) string {
	h := sha256.New()
	h.Write([]byte(v.Code))
	h.Write([]byte{0})
	h.Write(v.InputSchema)
	h.Write([]byte{0})
	h.Write(v.OutputSchema)
	h.Write([]byte{0})
	h.Write(v.Tests)
	return hex.EncodeToString(h.Sum(nil))
}

func prepareTask(t *core.Task) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return core.Errorf(core.KindInvalidArgument, "task name is required").WithDetail("field", "name")
	}
	if err := checkText("task fields", t.Name, t.UUID, t.Label, t.Version, t.Description, t.Author, t.Source); err != nil {
		return err
	}
	t.LoadError = clean(t.LoadError)
	if t.UUID == "" {
		t.UUID = newUUID()
	}
	if t.Version == "" {
		t.Version = "1.0.0"
	}
	return nil
}

// Create inserts a new task and, when v is not nil, its first version. A
// task whose name or uuid exists already is a conflict.
func (r TaskRepo) Create(ctx context.Context, t core.Task, v *core.TaskVersion) (core.Task, error) {
	if err := prepareTask(&t); err != nil {
		return core.Task{}, err
	}
	var out core.Task
	err := r.s.RunInTx(ctx, func(ctx context.Context, tx *Store) error {
		var err error
		out, err = TaskRepo{tx}.insert(ctx, t, v)
		return err
	})
	return out, err
}

func (r TaskRepo) insert(ctx context.Context, t core.Task, v *core.TaskVersion) (core.Task, error) {
	now := r.s.now()
	t.CreatedAt, t.UpdatedAt = now, now
	if v != nil {
		if v.Checksum == "" {
			v.Checksum = Checksum(*v)
		}
		t.Checksum = v.Checksum
	}
	m, err := taskToModel(t)
	if err != nil {
		return core.Task{}, err
	}
	m.ID = 0
	if _, err := r.s.w.NewInsert().Model(m).Returning("*").Exec(ctx); err != nil {
		return core.Task{}, taskConflict(err, t)
	}
	if v != nil {
		if _, err := r.insertVersion(ctx, m.ID, m.Version, *v); err != nil {
			return core.Task{}, err
		}
	}
	return taskFromModel(m)
}

func taskConflict(err error, t core.Task) error {
	err = mapError(err)
	if errors.Is(err, core.ErrConflict) {
		return core.Errorf(core.KindConflict, "a task named %q (or with uuid %s) already exists", t.Name, t.UUID).
			WithDetail("name", t.Name)
	}
	return err
}

func (r TaskRepo) insertVersion(ctx context.Context, taskID int64, version string, v core.TaskVersion) (core.TaskVersion, error) {
	if v.Version == "" {
		v.Version = version
	}
	if v.Checksum == "" {
		v.Checksum = Checksum(v)
	}
	if err := checkJSON("task version schema, metadata or tests", v.InputSchema, v.OutputSchema, v.Metadata, v.Tests); err != nil {
		return core.TaskVersion{}, err
	}
	m := &taskVersionModel{
		TaskID: taskID, Version: v.Version, Checksum: v.Checksum, Code: v.Code,
		InputSchema: rawJSON(v.InputSchema), OutputSchema: rawJSON(v.OutputSchema),
		Metadata: rawJSON(v.Metadata), Tests: rawJSON(v.Tests), CreatedAt: r.s.now(),
	}
	if _, err := r.s.w.NewInsert().Model(m).Returning("*").Exec(ctx); err != nil {
		return core.TaskVersion{}, mapError(err)
	}
	return versionFromModel(m), nil
}

// Save creates or updates the task named t.Name with content v, as the
// registry does on every load: a new task is created with v as its first
// version; an existing one gets t's fields (id, uuid and created_at are
// kept) and, when v's checksum differs from its current one, a new version.
func (r TaskRepo) Save(ctx context.Context, t core.Task, v core.TaskVersion) (core.Task, SaveResult, error) {
	if err := prepareTask(&t); err != nil {
		return core.Task{}, "", err
	}
	if v.Checksum == "" {
		v.Checksum = Checksum(v)
	}
	var (
		out    core.Task
		result SaveResult
	)
	err := r.s.RunInTx(ctx, func(ctx context.Context, tx *Store) error {
		tr := TaskRepo{tx}
		cur, err := tr.GetByName(ctx, t.Name)
		if errors.Is(err, core.ErrNotFound) {
			out, err = tr.insert(ctx, t, &v)
			result = TaskCreated
			return err
		}
		if err != nil {
			return err
		}
		t.ID, t.UUID, t.CreatedAt = cur.ID, cur.UUID, cur.CreatedAt
		result = TaskUnchanged
		if cur.Checksum == v.Checksum {
			// Same content: the version stays what it is (it may have been
			// bumped below by an earlier change the files do not record).
			t.Version = cur.Version
		} else {
			t.Version = nextVersion(cur.Version, t.Version)
			v.Version = t.Version
			if _, err := tr.insertVersion(ctx, cur.ID, t.Version, v); err != nil {
				return err
			}
			result = TaskNewVersion
		}
		t.Checksum = v.Checksum
		out, err = tr.update(ctx, t, true)
		return err
	})
	return out, result, err
}

// Update replaces the task's mutable fields (everything but id, uuid,
// checksum and created_at) with t's. PATCH semantics belong to the caller:
// read, change, update.
func (r TaskRepo) Update(ctx context.Context, t core.Task) (core.Task, error) {
	if err := prepareTask(&t); err != nil {
		return core.Task{}, err
	}
	return r.update(ctx, t, false)
}

func (r TaskRepo) update(ctx context.Context, t core.Task, withChecksum bool) (core.Task, error) {
	t.UpdatedAt = r.s.now()
	m, err := taskToModel(t)
	if err != nil {
		return core.Task{}, err
	}
	cols := []string{"name", "label", "version", "description", "tags", "author", "timeout_ms",
		"enabled", "input_schema", "output_schema", "metadata", "source", "load_error", "updated_at"}
	if withChecksum {
		cols = append(cols, "checksum")
	}
	err = r.s.w.NewUpdate().Model(m).Column(cols...).WherePK().Returning("*").Scan(ctx)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return core.Task{}, core.Errorf(core.KindNotFound, "task %d not found", t.ID)
		}
		return core.Task{}, taskConflict(err, t)
	}
	return taskFromModel(m)
}

// SetLoadError records (or, with "", clears) the error of the latest load
// of the task's source.
func (r TaskRepo) SetLoadError(ctx context.Context, id int64, msg string) error {
	res, err := r.s.w.NewUpdate().Model((*taskModel)(nil)).
		Set("load_error = ?", clean(msg)).Set("updated_at = ?", r.s.now()).
		Where("id = ?", id).Exec(ctx)
	return affected(res, err, "task", id)
}

// Delete removes a task with its versions, schedules and finished jobs
// (with their executions and deliveries). While the task has unfinished
// jobs (queued, processing or retrying) it is a ConflictError whose
// details give their number (unfinished_jobs): cancel them or let them
// finish first.
func (r TaskRepo) Delete(ctx context.Context, id int64) error {
	return r.s.RunInTx(ctx, func(ctx context.Context, tx *Store) error {
		n, err := tx.w.NewSelect().Model((*jobModel)(nil)).
			Where("task_id = ?", id).
			Where("status IN (?)", bun.List([]core.JobStatus{core.JobQueued, core.JobProcessing, core.JobRetrying})).
			Count(ctx)
		if err != nil {
			return mapError(err)
		}
		if n > 0 {
			return core.Errorf(core.KindConflict,
				"task %d has %d unfinished jobs (queued, processing or retrying): cancel them or let them finish before deleting it", id, n).
				WithDetail("task_id", id).WithDetail("unfinished_jobs", n)
		}
		res, err := tx.w.NewDelete().Model((*taskModel)(nil)).Where("id = ?", id).Exec(ctx)
		return affected(res, err, "task", id)
	})
}

// affected turns "no row changed" into a NotFoundError.
func affected(res sql.Result, err error, what string, key any) error {
	if err != nil {
		return mapError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return core.Errorf(core.KindNotFound, "%s %v not found", what, key)
	}
	return nil
}

func (r TaskRepo) getWhere(ctx context.Context, what string, key any, where string, args ...any) (core.Task, error) {
	var m taskModel
	if err := r.s.r.NewSelect().Model(&m).Where(where, args...).Limit(1).Scan(ctx); err != nil {
		return core.Task{}, notFound(err, what, key)
	}
	return taskFromModel(&m)
}

// Get returns the task with the given id.
func (r TaskRepo) Get(ctx context.Context, id int64) (core.Task, error) {
	return r.getWhere(ctx, "task", id, "id = ?", id)
}

// GetByName returns the task with the given name.
func (r TaskRepo) GetByName(ctx context.Context, name string) (core.Task, error) {
	return r.getWhere(ctx, "task", strconv.Quote(name), "name = ?", name)
}

// GetByUUID returns the task with the given uuid.
func (r TaskRepo) GetByUUID(ctx context.Context, uuid string) (core.Task, error) {
	return r.getWhere(ctx, "task", uuid, "uuid = ?", uuid)
}

// GetByRef finds a task the way the API and CLI address it: by numeric id,
// uuid or name (a numeric ref that is no id is tried as a name).
func (r TaskRepo) GetByRef(ctx context.Context, ref string) (core.Task, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return core.Task{}, core.Errorf(core.KindInvalidArgument, "task reference is empty: give an id, uuid or name")
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		t, err := r.Get(ctx, id)
		if !errors.Is(err, core.ErrNotFound) {
			return t, err
		}
		return r.getWhere(ctx, "task", strconv.Quote(ref), "name = ?", ref)
	}
	var ms []taskModel
	if err := r.s.r.NewSelect().Model(&ms).Where("uuid = ? OR name = ?", ref, ref).Limit(2).Scan(ctx); err != nil {
		return core.Task{}, mapError(err)
	}
	for i := range ms {
		if ms[i].UUID == ref {
			return taskFromModel(&ms[i])
		}
	}
	if len(ms) == 0 {
		return core.Task{}, core.Errorf(core.KindNotFound, "task %q not found", ref)
	}
	return taskFromModel(&ms[0])
}

// List returns one page of tasks. Filter and sort fields: id, uuid, name,
// label, version, description, enabled, source, load_error, author,
// checksum, created_at, updated_at; q searches name, label and description.
func (r TaskRepo) List(ctx context.Context, q core.ListQuery) (core.Page[core.Task], error) {
	rows, total, err := list[taskModel](ctx, r.s, taskResource, q, "id")
	if err != nil {
		return core.Page[core.Task]{}, err
	}
	items := make([]core.Task, len(rows))
	for i := range rows {
		if items[i], err = taskFromModel(&rows[i]); err != nil {
			return core.Page[core.Task]{}, err
		}
	}
	return core.Page[core.Task]{Items: items, Total: total}, nil
}

// AddVersion records v as the task's current version when its checksum
// differs from the current one, and points the task at it. It reports
// whether a version was added.
func (r TaskRepo) AddVersion(ctx context.Context, taskID int64, v core.TaskVersion) (core.TaskVersion, bool, error) {
	if v.Checksum == "" {
		v.Checksum = Checksum(v)
	}
	var (
		out   core.TaskVersion
		added bool
	)
	err := r.s.RunInTx(ctx, func(ctx context.Context, tx *Store) error {
		tr := TaskRepo{tx}
		t, err := tr.Get(ctx, taskID)
		if err != nil {
			return err
		}
		if t.Checksum == v.Checksum {
			out, err = tr.CurrentVersion(ctx, taskID)
			if errors.Is(err, core.ErrNotFound) {
				out, err = tr.insertVersion(ctx, taskID, t.Version, v)
				added = err == nil
			}
			return err
		}
		if out, err = tr.insertVersion(ctx, taskID, t.Version, v); err != nil {
			return err
		}
		added = true
		_, err = tx.w.NewUpdate().Model((*taskModel)(nil)).
			Set("checksum = ?", v.Checksum).Set("version = ?", out.Version).
			Set("input_schema = ?", rawJSON(v.InputSchema)).Set("output_schema = ?", rawJSON(v.OutputSchema)).
			Set("updated_at = ?", tx.now()).Where("id = ?", taskID).Exec(ctx)
		return mapError(err)
	})
	return out, added, err
}

// Versions lists a task's versions, newest first.
func (r TaskRepo) Versions(ctx context.Context, taskID int64) ([]core.TaskVersion, error) {
	var ms []taskVersionModel
	if err := r.s.r.NewSelect().Model(&ms).Where("task_id = ?", taskID).Order("id DESC").Scan(ctx); err != nil {
		return nil, mapError(err)
	}
	if len(ms) == 0 {
		if _, err := r.Get(ctx, taskID); err != nil {
			return nil, err
		}
	}
	out := make([]core.TaskVersion, len(ms))
	for i := range ms {
		out[i] = versionFromModel(&ms[i])
	}
	return out, nil
}

// CurrentVersion returns the task's newest version (its code and schemas).
func (r TaskRepo) CurrentVersion(ctx context.Context, taskID int64) (core.TaskVersion, error) {
	var m taskVersionModel
	err := r.s.r.NewSelect().Model(&m).Where("task_id = ?", taskID).Order("id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return core.TaskVersion{}, notFound(err, "version of task", taskID)
	}
	return versionFromModel(&m), nil
}

// nextVersion is the version of changed content: the given one when it is
// newer than the current one, else the current one with its patch number
// bumped, so that every change is a distinct version even when its
// metadata.json keeps the old number. Versions that are not MAJOR.MINOR.PATCH
// are taken as given.
func nextVersion(cur, given string) string {
	c, cok := parseSemver(cur)
	g, gok := parseSemver(given)
	if !cok || (!gok && given != "") {
		return given
	}
	if gok && semverLess(c, g) {
		return given
	}
	return fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2]+1)
}

// parseSemver reads MAJOR.MINOR.PATCH (an optional leading v and any
// -pre or +build suffix ignored).
func parseSemver(s string) ([3]int, bool) {
	var out [3]int
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

func semverLess(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
