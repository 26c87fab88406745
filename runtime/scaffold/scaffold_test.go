package scaffold

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
	"github.com/ratchet-go/ratchet/runtime/testrunner"
	"github.com/ratchet-go/ratchet/runtime/validate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGeneratedTaskPasses(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "Hello-World")
	written, err := Generate(dir, Options{Description: "Says hello."})
	if err != nil {
		t.Fatal(err)
	}
	if len(written) < 7 {
		t.Fatalf("written = %v", written)
	}
	task, err := taskfmt.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if task.Name != "hello-world" || task.Label != "Hello World" || task.Description != "Says hello." || len(task.Tests) != 3 {
		t.Fatalf("task = %+v", task)
	}
	eng, err := engine.New(engine.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := testrunner.Run(t.Context(), eng, []*taskfmt.Task{task})
	if !rep.OK() || rep.Passed != 3 {
		var b strings.Builder
		rep.Write(&b, testrunner.FormatText)
		t.Fatalf("generated tests fail:\n%s", b.String())
	}
	v := validate.Path(t.Context(), eng, dir)
	if len(v.Problems) != 0 {
		t.Fatalf("generated task has problems: %+v", v.Problems)
	}
}

func TestGenerateOptions(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "x")
	if _, err := Generate(dir, Options{Name: "Not A Slug"}); err == nil {
		t.Fatal("bad name accepted")
	}
	if _, err := Generate(dir, Options{Name: "my-task"}); err != nil {
		t.Fatal(err)
	}
	meta, _ := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if !strings.Contains(string(meta), `"name": "my-task"`) {
		t.Fatalf("metadata = %s", meta)
	}
	if _, err := Generate(dir, Options{Name: "my-task"}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("non-empty folder overwritten: %v", err)
	}
	if _, err := Generate(dir, Options{Name: "my-task", Force: true}); err != nil {
		t.Fatal(err)
	}
}
