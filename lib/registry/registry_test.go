package registry_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/registry"
	"github.com/ratchet-go/ratchet/resilience/lifecycle"
)

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	if _, err := registry.New(nil, registry.Config{}, nil); err == nil {
		t.Error("New with a nil store: want an error")
	}
	for _, src := range []registry.Source{
		{URI: ""},
		{URI: "https://example.com/tasks"},
		{URI: "file://"},
		{URI: "./tasks", IgnorePatterns: []string{"[a-"}},
		{URI: "./tasks", Debounce: -1},
	} {
		if _, err := registry.New(st, registry.Config{Sources: []registry.Source{src}}, nil); !errors.Is(err, &core.Error{Kind: core.KindConfiguration}) {
			t.Errorf("source %+v: got %v, want a ConfigurationError", src, err)
		}
	}
	dup := []registry.Source{{URI: "a"}, {URI: "a"}}
	if _, err := registry.New(st, registry.Config{Sources: dup}, nil); err == nil {
		t.Error("two sources with one URI: want an error")
	}
	got := registry.SourcesFromConfig(config.RegistryConfig{Sources: []config.RegistrySource{{
		Name: "local", URI: "file://./tasks",
		Config: config.RegistrySourceConfig{Watch: true, DebounceMS: 250, IgnorePatterns: []string{"*.tmp"}},
	}}})
	if len(got) != 1 || got[0].Name != "local" || !got[0].Watch || got[0].Debounce.Milliseconds() != 250 || got[0].IgnorePatterns[0] != "*.tmp" {
		t.Errorf("SourcesFromConfig = %+v", got)
	}
}

// TestExampleTasks loads the repository's example tasks, as a user's first
// configuration would.
func TestExampleTasks(t *testing.T) {
	t.Parallel()
	examples, err := filepath.Abs("../../docs/examples/tasks")
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(t)
	uri := "file://" + examples
	r := newRegistry(t, st, registry.Config{Sources: []registry.Source{{Name: "examples", URI: uri}}})
	if err := r.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	for _, name := range []string{"addition", "async-pipeline", "order-validation", "weather-api"} {
		task := taskNamed(t, st, name)
		if task.Source != uri || !task.Enabled || task.LoadError != "" || task.Checksum == "" {
			t.Errorf("%s = %+v: want it enabled, from %s, with no load error", name, task, uri)
		}
		vs := versionsOf(t, st, task.ID)
		if len(vs) != 1 || vs[0].Checksum != task.Checksum || vs[0].Code == "" || len(vs[0].Tests) == 0 {
			t.Errorf("%s: versions %+v, want one with code and tests", name, vs)
		}
	}
	add := taskNamed(t, st, "addition")
	if add.Label != "Addition" || add.Timeout.Seconds() != 5 || len(add.Tags) != 2 || add.Author != "Ratchet" {
		t.Errorf("addition's metadata fields: %+v", add)
	}
	status := r.Sources()
	if len(status) != 1 || status[0].Tasks != 4 || status[0].Failed != 0 || status[0].Error != "" || status[0].LoadedAt.IsZero() {
		t.Errorf("Sources() = %+v", status)
	}

	// A reload of unchanged files changes nothing.
	for name, kind := range reload(t, r) {
		if kind != registry.TaskUnchanged {
			t.Errorf("reload: %s %s, want unchanged", name, kind)
		}
	}
	if n := len(versionsOf(t, st, add.ID)); n != 1 {
		t.Errorf("addition has %d versions after a reload, want 1", n)
	}

	// A version's files make the same task again (same checksum).
	cur, err := st.Tasks().CurrentVersion(t.Context(), add.ID)
	if err != nil {
		t.Fatal(err)
	}
	files, err := registry.VersionFiles(cur)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4+5 {
		t.Errorf("VersionFiles gave %d files, want metadata, main, 2 schemas and 5 tests", len(files))
	}
	other := newRegistry(t, newStore(t), registry.Config{})
	copied, err := other.CreateFromFiles(t.Context(), "", files)
	if err != nil {
		t.Fatalf("CreateFromFiles(VersionFiles(addition)): %v", err)
	}
	if copied.Checksum != add.Checksum || copied.Name != "addition" || copied.Source != registry.SourceAPI {
		t.Errorf("copy = %+v, want checksum %s", copied, add.Checksum)
	}
}

func TestVersionsAndLoadErrors(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "alpha"), taskFiles("alpha", `{"v": 1}`))
	writeFiles(t, filepath.Join(dir, "beta"), taskFiles("beta", `{"v": 1}`))
	// A folder whose metadata names the task differently.
	writeFiles(t, filepath.Join(dir, "gamma-folder"), taskFiles("gamma", `{"v": 1}`))
	// Not tasks: no main.js or metadata.json, a hidden folder, a plain file.
	writeFiles(t, filepath.Join(dir, "docs"), map[string]string{"x.md": "#"})
	writeFiles(t, filepath.Join(dir, ".hidden"), taskFiles("hidden", `{}`))
	writeFile(t, filepath.Join(dir, "notes.txt"), "hi")

	log := &changeLog{}
	r := newRegistry(t, st, registry.Config{Sources: []registry.Source{{URI: dir}}, OnChange: log.record})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := kinds(log.all()); len(got) != 3 || got["alpha"] != registry.TaskCreated || got["gamma"] != registry.TaskCreated {
		t.Fatalf("OnChange after Start: %v, want alpha, beta and gamma created", got)
	}
	noTask(t, st, "hidden")
	noTask(t, st, "gamma-folder")
	alpha := taskNamed(t, st, "alpha")
	taskNamed(t, st, "beta")
	if alpha.Source != dir {
		t.Errorf("source = %q, want the URI as configured, %q", alpha.Source, dir)
	}

	// Changed code: a new version; the others are untouched.
	writeFile(t, filepath.Join(dir, "alpha", "main.js"), "(function (input) { return {v: 2} })")
	if got := reload(t, r); got["alpha"] != registry.TaskNewVersion || got["beta"] != registry.TaskUnchanged {
		t.Fatalf("after changing alpha: %v", got)
	}
	alpha2 := taskNamed(t, st, "alpha")
	if vs := versionsOf(t, st, alpha.ID); len(vs) != 2 || alpha2.Checksum == alpha.Checksum || alpha2.ID != alpha.ID {
		t.Fatalf("alpha: %d versions, checksum %s -> %s", len(vs), alpha.Checksum, alpha2.Checksum)
	}
	// A changed test is a change too.
	writeFile(t, filepath.Join(dir, "beta", "tests", "more.json"), `{"input": {"x": 1}, "expected_output": {"v": 1}}`)
	if got := reload(t, r); got["beta"] != registry.TaskNewVersion {
		t.Fatalf("after adding a test to beta: %v", got)
	}

	// Broken: load_error recorded, last good version kept, others fine.
	writeFile(t, filepath.Join(dir, "alpha", "main.js"), "(function (input) { return {v: 3 }")
	writeFile(t, filepath.Join(dir, "alpha", "input.schema.json"), `{"type": 12}`)
	got := reload(t, r)
	if got["alpha"] != registry.TaskFailed || got["beta"] != registry.TaskUnchanged || got["gamma"] != registry.TaskUnchanged {
		t.Fatalf("after breaking alpha: %v", got)
	}
	broken := taskNamed(t, st, "alpha")
	if !contains(broken.LoadError, "main.js:1:") || !contains(broken.LoadError, "input.schema.json") {
		t.Errorf("load_error = %q, want the syntax error's position and the schema problem", broken.LoadError)
	}
	if broken.Checksum != alpha2.Checksum || !broken.Enabled || len(versionsOf(t, st, alpha.ID)) != 2 {
		t.Errorf("a broken task must keep its last good version: %+v", broken)
	}
	if b := taskNamed(t, st, "beta"); b.LoadError != "" {
		t.Errorf("beta got load_error %q", b.LoadError)
	}
	if s := r.Sources()[0]; s.Tasks != 2 || s.Failed != 1 {
		t.Errorf("status = %+v, want 2 tasks and 1 failed", s)
	}

	// Fixed back to the previous content: the error is cleared, no new version.
	writeFile(t, filepath.Join(dir, "alpha", "main.js"), "(function (input) { return {v: 2} })")
	writeFile(t, filepath.Join(dir, "alpha", "input.schema.json"), `{"type": "object"}`)
	if got := reload(t, r); got["alpha"] != registry.TaskUpdated {
		t.Fatalf("after fixing alpha: %v", got)
	}
	if fixed := taskNamed(t, st, "alpha"); fixed.LoadError != "" || len(versionsOf(t, st, alpha.ID)) != 2 {
		t.Errorf("fixed alpha = %+v", fixed)
	}

	// A task broken from the start gets a row, disabled, with its error;
	// its name comes from its metadata.json.
	files := taskFiles("delta", `{}`)
	files["main.js"] = "function ("
	writeFiles(t, filepath.Join(dir, "delta-dir"), files)
	writeFiles(t, filepath.Join(dir, "epsilon"), map[string]string{"metadata.json": `{"label": "no code"}`})
	got = reload(t, r)
	if got["delta"] != registry.TaskFailed || got["epsilon"] != registry.TaskFailed {
		t.Fatalf("new broken tasks: %v", got)
	}
	delta := taskNamed(t, st, "delta")
	if delta.Enabled || delta.LoadError == "" || delta.Checksum != "" || delta.Source != dir {
		t.Errorf("delta = %+v, want a disabled row with its load error", delta)
	}
	if eps := taskNamed(t, st, "epsilon"); !contains(eps.LoadError, "main.js") {
		t.Errorf("epsilon's load_error = %q, want it to name main.js", eps.LoadError)
	}
	files["main.js"] = "function main(input) { return {} }"
	writeFiles(t, filepath.Join(dir, "delta-dir"), files)
	if got := reload(t, r); got["delta"] != registry.TaskCreated {
		t.Fatalf("fixed delta: %v", got)
	}
	if d := taskNamed(t, st, "delta"); !d.Enabled || d.LoadError != "" || d.ID != delta.ID || len(versionsOf(t, st, d.ID)) != 1 {
		t.Errorf("fixed delta = %+v, want enabled with one version", d)
	}
}

func TestRemovedTasksAreDisabled(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dir := t.TempDir()
	for _, n := range []string{"one", "two", "three"} {
		writeFiles(t, filepath.Join(dir, n), taskFiles(n, `{}`))
	}
	r := newRegistry(t, st, registry.Config{Sources: []registry.Source{{URI: "file://" + dir}}})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A user disables three; the registry leaves that alone.
	three := taskNamed(t, st, "three")
	three.Enabled = false
	if _, err := st.Tasks().Update(t.Context(), three); err != nil {
		t.Fatal(err)
	}
	two := taskNamed(t, st, "two")
	if err := os.RemoveAll(filepath.Join(dir, "two")); err != nil {
		t.Fatal(err)
	}
	got := reload(t, r)
	if got["two"] != registry.TaskRemoved || got["one"] != registry.TaskUnchanged || got["three"] != registry.TaskUnchanged {
		t.Fatalf("after removing two: %v", got)
	}
	gone := taskNamed(t, st, "two")
	if gone.Enabled || !contains(gone.LoadError, "removed") || len(versionsOf(t, st, two.ID)) != 1 {
		t.Errorf("removed task = %+v, want it disabled with its history", gone)
	}
	if got := reload(t, r); got["two"] != "" {
		t.Errorf("a second reload reported two again: %v", got)
	}
	if taskNamed(t, st, "three").Enabled {
		t.Error("the registry enabled a task a user disabled")
	}
	writeFiles(t, filepath.Join(dir, "two"), taskFiles("two", `{}`))
	if got := reload(t, r); got["two"] != registry.TaskUpdated {
		t.Fatalf("after restoring two: %v", got)
	}
	if back := taskNamed(t, st, "two"); !back.Enabled || back.LoadError != "" || back.ID != two.ID {
		t.Errorf("restored task = %+v, want it enabled again", back)
	}
	// The whole source gone: every task disabled.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if got := reload(t, r); got["one"] != registry.TaskRemoved || got["two"] != registry.TaskRemoved {
		t.Errorf("source removed: %v", got)
	}
	if s := r.Sources()[0]; s.Error == "" {
		t.Errorf("status of a missing source = %+v, want an error", s)
	}
}

func TestZipAndSingleTaskSources(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	base := t.TempDir()
	zips := filepath.Join(base, "zips")
	if err := os.MkdirAll(zips, 0o755); err != nil {
		t.Fatal(err)
	}
	noMeta := taskFiles("", `{}`)
	delete(noMeta, "metadata.json")
	writeZip(t, filepath.Join(zips, "zipped.zip"), "", noMeta)                         // named after the zip
	writeZip(t, filepath.Join(zips, "other.zip"), "inner", taskFiles("wrapped", `{}`)) // one top folder
	writeFile(t, filepath.Join(zips, "broken.zip"), "not a zip")
	lone := filepath.Join(base, "lone.zip")
	writeZip(t, lone, "", taskFiles("lone", `{}`))
	single := filepath.Join(base, "single-task")
	writeFiles(t, single, taskFiles("solo", `{}`))

	r := newRegistry(t, st, registry.Config{Sources: []registry.Source{
		{Name: "zips", URI: zips}, {Name: "lone", URI: "file://" + lone}, {Name: "single", URI: single},
	}})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"zipped": zips, "wrapped": zips, "lone": "file://" + lone, "solo": single} {
		task := taskNamed(t, st, name)
		if task.Source != src || task.LoadError != "" || !task.Enabled {
			t.Errorf("%s = %+v, want it loaded from %s", name, task, src)
		}
	}
	if b := taskNamed(t, st, "broken"); b.LoadError == "" || b.Enabled {
		t.Errorf("broken zip = %+v, want a load error", b)
	}
	// A changed zip is a new version.
	writeZip(t, lone, "", taskFiles("lone", `{"changed": true}`))
	if got := reload(t, r); got["lone"] != registry.TaskNewVersion || got["solo"] != registry.TaskUnchanged {
		t.Errorf("after changing lone.zip: %v", got)
	}
}

func TestIgnorePatternsSkipTasks(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "kept"), taskFiles("kept", `{}`))
	writeFiles(t, filepath.Join(dir, "draft-x"), taskFiles("draft", `{}`))
	writeFiles(t, filepath.Join(dir, "node_modules"), taskFiles("nm", `{}`))
	r := newRegistry(t, st, registry.Config{Sources: []registry.Source{{URI: dir, IgnorePatterns: []string{"draft-*", "node_modules"}}}})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	taskNamed(t, st, "kept")
	noTask(t, st, "draft")
	noTask(t, st, "nm")
}

func TestNameClashes(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dir := t.TempDir()
	other := t.TempDir()
	writeFiles(t, filepath.Join(dir, "mine"), taskFiles("shared", `{"from": "dir"}`))
	writeFiles(t, filepath.Join(dir, "twin"), taskFiles("shared", `{"from": "twin"}`))
	writeFiles(t, filepath.Join(dir, "api-named"), taskFiles("uploaded", `{}`))
	writeFiles(t, filepath.Join(other, "x"), taskFiles("shared", `{"from": "other"}`))

	r := newRegistry(t, st, registry.Config{Sources: []registry.Source{{URI: dir}, {URI: other}}})
	api, err := r.CreateFromFiles(t.Context(), "uploaded", stringsToBytes(taskFiles("uploaded", `{"api": 1}`)))
	if err != nil {
		t.Fatal(err)
	}
	changes, err := r.Reload(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, c := range changes {
		if c.Kind == registry.TaskFailed {
			failed++
			if c.Err == nil {
				t.Errorf("failed change without an error: %+v", c)
			}
		}
	}
	if failed != 3 {
		t.Errorf("%d failed loads, want 3 (twin, api-named, other/x): %+v", failed, changes)
	}
	shared := taskNamed(t, st, "shared")
	if shared.Source != dir || len(versionsOf(t, st, shared.ID)) != 1 || shared.LoadError != "" {
		t.Errorf("shared = %+v, want the first folder's", shared)
	}
	if up := taskNamed(t, st, "uploaded"); up.Checksum != api.Checksum || up.Source != registry.SourceAPI || up.LoadError != "" {
		t.Errorf("the API task was touched by the registry: %+v", up)
	}
}

func TestAPIOperations(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "disk"), taskFiles("disk", `{}`))
	log := &changeLog{}
	r := newRegistry(t, st, registry.Config{Sources: []registry.Source{{URI: dir}}, OnChange: log.record})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	// Invalid files: every problem listed, as an InvalidArgument.
	bad := stringsToBytes(taskFiles("bad", `{}`))
	bad["main.js"] = []byte("function (\n  oops")
	bad["input.schema.json"] = []byte(`{"type": "nope"}`)
	_, err := r.CreateFromFiles(ctx, "bad", bad)
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Kind != core.KindInvalidArgument {
		t.Fatalf("invalid task: got %v, want an InvalidArgument", err)
	}
	var inv *registry.InvalidTaskError
	if !errors.As(err, &inv) || len(inv.Problems) != 2 || inv.Problems[0].File != "main.js" || inv.Problems[0].Line != 2 || inv.Problems[1].File != "input.schema.json" {
		t.Fatalf("problems = %+v, want main.js line 2 and input.schema.json", inv)
	}
	if probs, ok := ce.Details["problems"].([]registry.Problem); !ok || len(probs) != 2 {
		t.Errorf("error details = %v, want the problems", ce.Details)
	}
	if err := registry.Validate("bad", bad); err == nil {
		t.Error("Validate accepted the invalid task")
	}
	noTask(t, st, "bad")

	files := stringsToBytes(taskFiles("up", `{"v": 1}`))
	if _, err := r.CreateFromFiles(ctx, "other-name", files); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("name differing from metadata's: %v, want InvalidArgument", err)
	}
	created, err := r.CreateFromFiles(ctx, "up", files)
	if err != nil {
		t.Fatal(err)
	}
	if created.Source != registry.SourceAPI || !created.Enabled || created.Label != "Task up" || len(versionsOf(t, st, created.ID)) != 1 {
		t.Errorf("created = %+v", created)
	}
	if _, err := r.CreateFromFiles(ctx, "up", files); !errors.Is(err, core.ErrConflict) {
		t.Errorf("creating it twice: %v, want a Conflict", err)
	}

	// Same content: no version. New content: a version. By uuid and id too.
	same, err := r.UpdateFromFiles(ctx, "up", files)
	if err != nil || same.Checksum != created.Checksum || len(versionsOf(t, st, created.ID)) != 1 {
		t.Fatalf("update with the same files: %+v, %v", same, err)
	}
	files["main.js"] = []byte("(function (input) { return {v: 2} })")
	changed, err := r.UpdateFromFiles(ctx, created.UUID, files)
	if err != nil || changed.Checksum == created.Checksum || changed.ID != created.ID || len(versionsOf(t, st, created.ID)) != 2 {
		t.Fatalf("update with new code: %+v, %v", changed, err)
	}
	if _, err := r.UpdateFromFiles(ctx, "up", bad); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("update with invalid files: %v", err)
	}
	// Renaming through metadata.json.
	files["metadata.json"] = []byte(`{"name": "renamed"}`)
	renamed, err := r.UpdateFromFiles(ctx, "up", files)
	if err != nil || renamed.Name != "renamed" || renamed.ID != created.ID {
		t.Fatalf("rename: %+v, %v", renamed, err)
	}
	// A registry task cannot be uploaded over.
	if _, err := r.UpdateFromFiles(ctx, "disk", files); !errors.Is(err, core.ErrConflict) {
		t.Errorf("updating a registry task: %v, want a Conflict", err)
	}
	if _, err := r.UpdateFromFiles(ctx, "nope", files); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("updating an unknown task: %v, want NotFound", err)
	}

	if err := r.Delete(ctx, "renamed"); err != nil {
		t.Fatal(err)
	}
	noTask(t, st, "renamed")
	if err := r.Delete(ctx, "renamed"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}

	var seen []registry.ChangeKind
	for _, c := range log.all() {
		if c.Source == registry.SourceAPI {
			seen = append(seen, c.Kind)
		}
	}
	want := []registry.ChangeKind{registry.TaskCreated, registry.TaskNewVersion, registry.TaskNewVersion, registry.TaskDeleted}
	if len(seen) != len(want) {
		t.Fatalf("OnChange saw %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("OnChange saw %v, want %v", seen, want)
			break
		}
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	r := newRegistry(t, st, registry.Config{})
	if err := r.Stop(t.Context()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := r.Start(t.Context()); !errors.Is(err, lifecycle.ErrStopped) {
		t.Errorf("Start after Stop: %v", err)
	}
	r2 := newRegistry(t, st, registry.Config{})
	if err := r2.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r2.Start(t.Context()); !errors.Is(err, lifecycle.ErrAlreadyStarted) {
		t.Errorf("second Start: %v", err)
	}
}

func stringsToBytes(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}
