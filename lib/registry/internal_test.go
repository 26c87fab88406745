package registry

import (
	"path/filepath"
	"testing"

	"github.com/fsnotify/fsnotify"
)

func TestIgnoreMatcher(t *testing.T) {
	t.Parallel()
	m, err := newMatcher([]string{"*.tmp", ".git/**", "node_modules", "drafts/**/*.js", "build/"})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		"a.tmp":                      true,
		"task/main.js.tmp":           true,
		".git":                       true,
		".git/objects/ab":            true,
		"node_modules":               true,
		"task/node_modules/x/y.js":   true,
		"drafts/a.js":                true,
		"drafts/deep/er/a.js":        true,
		"drafts/a.json":              false,
		"build/out.js":               true,
		"task/main.js":               false,
		"task/tests/basic.json":      false,
		"tmp":                        false,
		"task/git/config":            false,
		"my-node_modules-task/x.js":  false,
		"task/tests/node_modules.js": false,
		".":                          false,
	}
	for rel, want := range cases {
		if got := m.Ignored(rel); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", rel, got, want)
		}
	}
	if _, err := newMatcher([]string{"[x"}); err == nil {
		t.Error("a malformed pattern was accepted")
	}
	if empty, _ := newMatcher(nil); empty.Ignored("a.tmp") {
		t.Error("no patterns ignored a path")
	}
}

func TestWatcherNote(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	src, err := newSource(Source{URI: root, IgnorePatterns: []string{"*.tmp", "*.swp"}})
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{src: src}
	ev := func(rel string, op fsnotify.Op) fsnotify.Event {
		return fsnotify.Event{Name: filepath.Join(root, filepath.FromSlash(rel)), Op: op}
	}
	pending := map[string]bool{}
	for _, e := range []fsnotify.Event{
		ev("task/main.js.tmp", fsnotify.Write),
		ev("task/.main.js.swp", fsnotify.Write),
		ev(".git/index", fsnotify.Write),
		ev("task/main.js", fsnotify.Chmod),
		{Name: filepath.Join(filepath.Dir(root), "elsewhere"), Op: fsnotify.Write},
	} {
		if w.note(e, pending) {
			t.Errorf("event %v was not dropped", e)
		}
	}
	if !w.note(ev("task/main.js", fsnotify.Write), pending) || !w.note(ev("task/tests/a.json", fsnotify.Create), pending) {
		t.Error("task file events were dropped")
	}
	if !w.note(fsnotify.Event{Name: root, Op: fsnotify.Remove}, pending) || !pending["."] {
		t.Error("the removal of the root does not reload the source")
	}
	if len(pending) != 3 || !pending["task/main.js"] {
		t.Errorf("pending = %v", pending)
	}

	zw := &watcher{src: src, file: filepath.Join(root, "t.zip")}
	zp := map[string]bool{}
	if zw.note(ev("other.zip", fsnotify.Write), zp) || !zw.note(ev("t.zip", fsnotify.Write), zp) || !zp["."] {
		t.Errorf("zip source events: %v", zp)
	}
}
