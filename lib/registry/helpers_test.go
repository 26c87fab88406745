package registry_test

import (
	"archive/zip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/registry"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
	"github.com/ratchet-go/ratchet/storage/storagetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	return storagetest.Migrated(t, storagetest.OpenSQLite)
}

// changeLog collects what OnChange receives.
type changeLog struct {
	mu      sync.Mutex
	batches [][]registry.Change
}

func (l *changeLog) record(_ context.Context, cs []registry.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.batches = append(l.batches, cs)
}

func (l *changeLog) all() []registry.Change {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []registry.Change
	for _, b := range l.batches {
		out = append(out, b...)
	}
	return out
}

func newRegistry(t *testing.T, st *sqlstore.Store, cfg registry.Config) *registry.Registry {
	t.Helper()
	r, err := registry.New(st, cfg, nil)
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}

// taskFiles is a valid task returning body.
func taskFiles(name, body string) map[string]string {
	return map[string]string{
		"metadata.json":      `{"name": "` + name + `", "label": "Task ` + name + `", "version": "1.0.0", "custom": true}`,
		"main.js":            "(function (input) { return " + body + " })",
		"input.schema.json":  `{"type": "object"}`,
		"output.schema.json": `{"type": "object"}`,
		"tests/basic.json":   `{"input": {}, "expected_output": ` + body + `}`,
		"README.md":          "not part of the task",
	}
}

// writeFiles writes files (relative slash paths) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeZip zips files into p, under an optional top folder.
func writeZip(t *testing.T, p, top string, files map[string]string) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for rel, content := range files {
		if top != "" {
			rel = top + "/" + rel
		}
		w, err := zw.Create(rel)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func taskNamed(t *testing.T, st *sqlstore.Store, name string) core.Task {
	t.Helper()
	task, err := st.Tasks().GetByName(t.Context(), name)
	if err != nil {
		t.Fatalf("task %s: %v", name, err)
	}
	return task
}

func noTask(t *testing.T, st *sqlstore.Store, name string) {
	t.Helper()
	if _, err := st.Tasks().GetByName(t.Context(), name); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("task %s: got %v, want none", name, err)
	}
}

func versionsOf(t *testing.T, st *sqlstore.Store, id int64) []core.TaskVersion {
	t.Helper()
	vs, err := st.Tasks().Versions(t.Context(), id)
	if err != nil {
		t.Fatalf("versions of task %d: %v", id, err)
	}
	return vs
}

// kinds maps task name to change kind.
func kinds(cs []registry.Change) map[string]registry.ChangeKind {
	out := map[string]registry.ChangeKind{}
	for _, c := range cs {
		name := c.Task.Name
		if name == "" {
			name = filepath.Base(c.Path)
		}
		out[name] = c.Kind
	}
	return out
}

func reload(t *testing.T, r *registry.Registry) map[string]registry.ChangeKind {
	t.Helper()
	cs, err := r.Reload(t.Context())
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	return kinds(cs)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
