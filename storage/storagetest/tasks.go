package storagetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

func testTasks(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	tasks := st.Tasks()

	// Schemas are kept byte for byte (key order and spacing included).
	schema := json.RawMessage(`{"type": "object",  "properties": {"b": {}, "a": {}}}`)
	in := core.Task{
		Name: "greet", Label: "Greeter", Description: "Says hello", Tags: []string{"demo", "hello"},
		Author: "ann", Timeout: 1500 * time.Millisecond, Enabled: true,
		InputSchema: schema, OutputSchema: json.RawMessage(`{"type":"string"}`),
		Metadata: json.RawMessage(`{"name":"greet","x-custom":1}`), Source: "file:///tasks/greet",
	}
	created := must[core.Task](t)(tasks.Create(ctx, in, &core.TaskVersion{Code: "function main(i){return 'hi'}"}))
	if created.ID == 0 || created.UUID == "" || created.Version != "1.0.0" || created.Checksum == "" {
		t.Fatalf("created task lacks store-filled fields: %+v", created)
	}
	if created.CreatedAt.IsZero() || created.CreatedAt.Location() != time.UTC {
		t.Fatalf("created_at = %v, want a UTC time", created.CreatedAt)
	}
	if string(created.InputSchema) != string(schema) || created.Timeout != in.Timeout ||
		len(created.Tags) != 2 || created.Tags[1] != "hello" || created.Author != "ann" || !created.Enabled {
		t.Fatalf("created task does not round-trip: %+v", created)
	}

	for _, ref := range []string{strconv.FormatInt(created.ID, 10), created.UUID, "greet"} {
		got := must[core.Task](t)(tasks.GetByRef(ctx, ref))
		if got.ID != created.ID {
			t.Fatalf("GetByRef(%q) = task %d, want %d", ref, got.ID, created.ID)
		}
	}
	got := must[core.Task](t)(tasks.Get(ctx, created.ID))
	if string(got.InputSchema) != string(schema) || string(got.Metadata) != string(in.Metadata) || !got.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("Get = %+v, want %+v", got, created)
	}
	must[core.Task](t)(tasks.GetByUUID(ctx, created.UUID))

	// A numeric name is found when no task has that id.
	numeric := must[core.Task](t)(tasks.Create(ctx, core.Task{Name: "424242"}, nil))
	if got := must[core.Task](t)(tasks.GetByRef(ctx, "424242")); got.ID != numeric.ID {
		t.Fatalf("GetByRef(numeric name) = %d, want %d", got.ID, numeric.ID)
	}

	for _, ref := range []string{"nope", "999999999", "00000000-0000-4000-8000-000000000000"} {
		_, err := tasks.GetByRef(ctx, ref)
		wantKind(t, err, core.KindNotFound)
	}
	_, err := tasks.GetByRef(ctx, " ")
	wantKind(t, err, core.KindInvalidArgument)
	_, err = tasks.Get(ctx, 999999)
	wantKind(t, err, core.KindNotFound)

	_, err = tasks.Create(ctx, core.Task{Name: "greet"}, nil)
	wantKind(t, err, core.KindConflict)
	_, err = tasks.Create(ctx, core.Task{Name: "other", UUID: created.UUID}, nil)
	wantKind(t, err, core.KindConflict)
	_, err = tasks.Create(ctx, core.Task{Name: "  "}, nil)
	wantKind(t, err, core.KindInvalidArgument)

	upd := got
	upd.Label, upd.Description, upd.Enabled, upd.Tags = "Hello", "", false, nil
	updated := must[core.Task](t)(tasks.Update(ctx, upd))
	if updated.Label != "Hello" || updated.Enabled || updated.Tags != nil || updated.UUID != created.UUID ||
		updated.Checksum != created.Checksum || !updated.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("Update = %+v", updated)
	}
	upd.Name = "424242"
	_, err = tasks.Update(ctx, upd)
	wantKind(t, err, core.KindConflict)
	_, err = tasks.Update(ctx, core.Task{ID: 999999, Name: "ghost"})
	wantKind(t, err, core.KindNotFound)

	noErr(t, tasks.SetLoadError(ctx, created.ID, "SyntaxError: oops"))
	if got := must[core.Task](t)(tasks.Get(ctx, created.ID)); got.LoadError != "SyntaxError: oops" {
		t.Fatalf("load_error = %q", got.LoadError)
	}
	wantKind(t, tasks.SetLoadError(ctx, 999999, "x"), core.KindNotFound)

	// Deleting a task deletes what hangs off it (its jobs finished: see
	// testDeleteTaskWithUnfinishedJobs).
	job := must[core.Job](t)(st.Jobs().Cancel(ctx, enqueue(t, st, core.Job{TaskID: created.ID}).ID))
	sched := must[core.Schedule](t)(st.Schedules().Create(ctx, core.Schedule{TaskID: created.ID, Name: "s", CronExpression: "@hourly"}))
	noErr(t, tasks.Delete(ctx, created.ID))
	_, err = tasks.Get(ctx, created.ID)
	wantKind(t, err, core.KindNotFound)
	_, err = st.Jobs().Get(ctx, job.ID)
	wantKind(t, err, core.KindNotFound)
	_, err = st.Schedules().Get(ctx, sched.ID)
	wantKind(t, err, core.KindNotFound)
	wantKind(t, tasks.Delete(ctx, created.ID), core.KindNotFound)
}

func testTaskVersions(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	tasks := st.Tasks()

	v1 := core.TaskVersion{Code: "v1", InputSchema: json.RawMessage(`{"type":"object"}`), Tests: json.RawMessage(`[{"input":{}}]`)}
	task, res, err := tasks.Save(ctx, core.Task{Name: "reg", Version: "1.0.0", Enabled: true}, v1)
	noErr(t, err)
	if res != sqlstore.TaskCreated || task.Checksum != sqlstore.Checksum(v1) {
		t.Fatalf("first Save = %s, checksum %s", res, task.Checksum)
	}

	again, res, err := tasks.Save(ctx, core.Task{Name: "reg", Version: "1.0.0", Label: "Relabelled", Enabled: true}, v1)
	noErr(t, err)
	if res != sqlstore.TaskUnchanged || again.ID != task.ID || again.UUID != task.UUID || again.Label != "Relabelled" {
		t.Fatalf("unchanged Save = %s, %+v", res, again)
	}

	v2 := core.TaskVersion{Code: "v2"}
	changed, res, err := tasks.Save(ctx, core.Task{Name: "reg", Version: "1.1.0", Enabled: true}, v2)
	noErr(t, err)
	if res != sqlstore.TaskNewVersion || changed.Version != "1.1.0" || changed.Checksum != sqlstore.Checksum(v2) || changed.ID != task.ID {
		t.Fatalf("changed Save = %s, %+v", res, changed)
	}

	versions := must[[]core.TaskVersion](t)(tasks.Versions(ctx, task.ID))
	if len(versions) != 2 || versions[0].Code != "v2" || versions[1].Code != "v1" ||
		versions[1].Version != "1.0.0" || string(versions[1].Tests) != string(v1.Tests) ||
		string(versions[1].InputSchema) != string(v1.InputSchema) {
		t.Fatalf("Versions = %+v", versions)
	}
	cur := must[core.TaskVersion](t)(tasks.CurrentVersion(ctx, task.ID))
	if cur.Code != "v2" || cur.TaskID != task.ID {
		t.Fatalf("CurrentVersion = %+v", cur)
	}

	// AddVersion only adds when the content changed.
	_, added, err := tasks.AddVersion(ctx, task.ID, v2)
	noErr(t, err)
	if added {
		t.Fatal("AddVersion with the current checksum added a version")
	}
	v3, added, err := tasks.AddVersion(ctx, task.ID, core.TaskVersion{Code: "v3", Version: "2.0.0"})
	noErr(t, err)
	if !added || v3.Code != "v3" {
		t.Fatalf("AddVersion = %+v, %v", v3, added)
	}
	if got := must[core.Task](t)(tasks.Get(ctx, task.ID)); got.Checksum != v3.Checksum || got.Version != "2.0.0" {
		t.Fatalf("task after AddVersion = %+v", got)
	}
	if n := len(must[[]core.TaskVersion](t)(tasks.Versions(ctx, task.ID))); n != 3 {
		t.Fatalf("%d versions, want 3", n)
	}

	_, err = tasks.Versions(ctx, 999999)
	wantKind(t, err, core.KindNotFound)
	_, err = tasks.CurrentVersion(ctx, 999999)
	wantKind(t, err, core.KindNotFound)
	_, _, err = tasks.AddVersion(ctx, 999999, v2)
	wantKind(t, err, core.KindNotFound)

	// A task created without content has no version until one is added.
	bare := must[core.Task](t)(tasks.Create(ctx, core.Task{Name: "bare"}, nil))
	_, err = tasks.CurrentVersion(ctx, bare.ID)
	if !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("CurrentVersion of a bare task: %v", err)
	}
}

// testDeleteTaskWithUnfinishedJobs: a task is not deleted while it has
// queued, processing or retrying jobs; once they finish it is, with them.
func testDeleteTaskWithUnfinishedJobs(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "busy")
	jobIn(t, st, task.ID, core.JobQueued)
	jobIn(t, st, task.ID, core.JobRetrying)
	done := jobIn(t, st, task.ID, core.JobCompleted)
	err := st.Tasks().Delete(ctx, task.ID)
	wantKind(t, err, core.KindConflict)
	var ce *core.Error
	if errors.As(err, &ce) && fmt.Sprint(ce.Details["unfinished_jobs"]) != "2" {
		t.Errorf("details = %v, want unfinished_jobs 2", ce.Details)
	}
	if _, err := st.Tasks().Get(ctx, task.ID); err != nil {
		t.Fatalf("refused delete removed the task: %v", err)
	}
	page := must[core.Page[core.Job]](t)(st.Jobs().List(ctx, core.ListQuery{
		Filters: []core.Filter{{Field: "task_id", Op: core.OpEq, Values: []string{fmt.Sprint(task.ID)}}}, Limit: 10,
	}))
	for _, j := range page.Items {
		if j.ID != done.ID {
			must[core.Job](t)(st.Jobs().Cancel(ctx, j.ID))
		}
	}
	noErr(t, st.Tasks().Delete(ctx, task.ID))
	wantKind(t, st.Tasks().Delete(ctx, task.ID), core.KindNotFound)
	_, err = st.Jobs().Get(ctx, done.ID)
	wantKind(t, err, core.KindNotFound)
}

// testTaskVersionBump: changed content whose metadata keeps (or lowers) the
// version number still becomes a new, higher version; unchanged content
// keeps the version it has.
func testTaskVersionBump(t *testing.T, open Opener) {
	ctx := t.Context()
	tasks := Migrated(t, open).Tasks()
	steps := []struct {
		code, given, want string
		res               sqlstore.SaveResult
	}{
		{"a", "1.0.0", "1.0.0", sqlstore.TaskCreated},
		{"b", "1.0.0", "1.0.1", sqlstore.TaskNewVersion},     // same number, new code: bumped
		{"b", "1.0.0", "1.0.1", sqlstore.TaskUnchanged},      // reload of the same files: kept
		{"c", "1.0.0", "1.0.2", sqlstore.TaskNewVersion},     // older number than the current: bumped
		{"d", "2.0.0", "2.0.0", sqlstore.TaskNewVersion},     // a newer number is taken as given
		{"e", "release", "release", sqlstore.TaskNewVersion}, // not semver: as given
	}
	for i, s := range steps {
		got, res, err := tasks.Save(ctx, core.Task{Name: "bump", Version: s.given, Enabled: true}, core.TaskVersion{Code: s.code})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if res != s.res || got.Version != s.want {
			t.Fatalf("step %d (code %q, version %q): result %s version %q, want %s %q", i, s.code, s.given, res, got.Version, s.res, s.want)
		}
		cur := must[core.TaskVersion](t)(tasks.CurrentVersion(ctx, got.ID))
		if cur.Version != s.want {
			t.Fatalf("step %d: current version row %q, want %q", i, cur.Version, s.want)
		}
	}
}
