package registry_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/lib/registry"
)

const debounce = 200 * time.Millisecond

func TestWatchFolderOfTasks(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "alpha"), taskFiles("alpha", `{"v": 0}`))
	writeFiles(t, filepath.Join(dir, "beta"), taskFiles("beta", `{}`))
	log := &changeLog{}
	r := newRegistry(t, st, registry.Config{
		Sources:  []registry.Source{{URI: dir, Watch: true, Debounce: debounce, IgnorePatterns: []string{"*.tmp"}}},
		OnChange: log.record,
	})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := r.Sources(); !s[0].Watching {
		t.Errorf("status = %+v, want watching", s[0])
	}
	alpha := taskNamed(t, st, "alpha")
	beta := taskNamed(t, st, "beta")

	// A burst of writes gives one reload: one new version, the last one.
	main := filepath.Join(dir, "alpha", "main.js")
	last := ""
	for i := 1; i <= 5; i++ {
		last = "(function (input) { return {v: " + strconv.Itoa(i) + "} })"
		writeFile(t, main, last)
		time.Sleep(10 * time.Millisecond)
	}
	waitFor(t, "alpha's new version", func() bool { return len(versionsOf(t, st, alpha.ID)) >= 2 })
	time.Sleep(3 * debounce)
	vs := versionsOf(t, st, alpha.ID)
	if len(vs) != 2 || vs[0].Code != last {
		t.Fatalf("after a burst of 5 writes: %d versions, current code %q; want 2 and the last write", len(vs), vs[0].Code)
	}
	if n := len(versionsOf(t, st, beta.ID)); n != 1 {
		t.Errorf("beta has %d versions, want 1: only the changed task is reloaded", n)
	}

	// A new task folder is loaded, files in its new tests folder included.
	writeFiles(t, filepath.Join(dir, "gamma"), taskFiles("gamma", `{}`))
	waitFor(t, "gamma to be loaded", func() bool {
		g, err := st.Tasks().GetByName(t.Context(), "gamma")
		return err == nil && g.Enabled && g.Checksum != ""
	})
	gamma := taskNamed(t, st, "gamma")
	writeFile(t, filepath.Join(dir, "gamma", "tests", "second.json"), `{"input": {"n": 2}, "expected_output": {}}`)
	waitFor(t, "gamma's new test to make a version", func() bool { return len(versionsOf(t, st, gamma.ID)) == 2 })

	// Broken, then fixed.
	writeFile(t, filepath.Join(dir, "beta", "main.js"), "function (")
	waitFor(t, "beta's load error", func() bool { return taskNamed(t, st, "beta").LoadError != "" })
	if a := taskNamed(t, st, "alpha"); a.LoadError != "" || len(versionsOf(t, st, alpha.ID)) != 2 {
		t.Errorf("alpha changed when beta broke: %+v", a)
	}
	writeFile(t, filepath.Join(dir, "beta", "main.js"), "(function (input) { return {fixed: true} })")
	waitFor(t, "beta's load error to clear", func() bool { return taskNamed(t, st, "beta").LoadError == "" })

	// A removed folder disables its task.
	if err := os.RemoveAll(filepath.Join(dir, "gamma")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "gamma to be disabled", func() bool { return !taskNamed(t, st, "gamma").Enabled })

	// A folder renamed, with its task's name in metadata.json, is one task.
	if err := os.Rename(filepath.Join(dir, "alpha"), filepath.Join(dir, "alpha-moved")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * debounce)
	if a := taskNamed(t, st, "alpha"); !a.Enabled || a.LoadError != "" {
		t.Errorf("alpha after its folder was renamed: %+v", a)
	}

	kindsSeen := map[registry.ChangeKind]bool{}
	for _, c := range log.all() {
		kindsSeen[c.Kind] = true
		if c.Kind == registry.TaskRemoved && c.Task.Name == "alpha" {
			t.Errorf("alpha was removed when its folder was renamed: %+v", c)
		}
	}
	for _, k := range []registry.ChangeKind{registry.TaskCreated, registry.TaskNewVersion, registry.TaskFailed, registry.TaskRemoved} {
		if !kindsSeen[k] {
			t.Errorf("OnChange never saw %s: %v", k, kindsSeen)
		}
	}

	// Stopped: no more reloads.
	if err := r.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, filepath.Join(dir, "late"), taskFiles("late", `{}`))
	time.Sleep(3 * debounce)
	noTask(t, st, "late")
}

func TestWatchSingleSources(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	base := t.TempDir()
	lone := filepath.Join(base, "lone.zip")
	writeZip(t, lone, "", taskFiles("lone", `{"v": 1}`))
	writeFile(t, filepath.Join(base, "unrelated.txt"), "x")
	single := filepath.Join(base, "single")
	writeFiles(t, single, taskFiles("solo", `{"v": 1}`))
	r := newRegistry(t, st, registry.Config{Sources: []registry.Source{
		{URI: lone, Watch: true, Debounce: debounce},
		{URI: "file://" + single, Watch: true, Debounce: debounce},
	}})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	zipped, solo := taskNamed(t, st, "lone"), taskNamed(t, st, "solo")

	writeZip(t, lone, "", taskFiles("lone", `{"v": 2}`))
	writeFile(t, filepath.Join(single, "main.js"), "(function (input) { return {v: 2} })")
	waitFor(t, "both single sources to reload", func() bool {
		return len(versionsOf(t, st, zipped.ID)) == 2 && len(versionsOf(t, st, solo.ID)) == 2
	})
	writeFile(t, filepath.Join(single, "tests", "extra.json"), `{"input": {}, "expected_output": {"v": 2}}`)
	waitFor(t, "the single task's new test", func() bool { return len(versionsOf(t, st, solo.ID)) == 3 })
}
