package command

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// buildEchoPlugin builds the example plugin into a fresh plugins dir.
func buildEchoPlugin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "echo-plugin"), "./examples/echo-plugin")
	build.Dir = filepath.Join("..", "..", "..", "plugin") // the plugin module's root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example plugin: %v\n%s", err, out)
	}
	return dir
}

func TestPluginList(t *testing.T) {
	dir := buildEchoPlugin(t)

	r := run(t, "", "plugin", "list", "--dir", dir, "-o", "json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	var plugins []struct {
		Name, Version, Path, State string
		Tasks                      []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &plugins); err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	if len(plugins) != 1 {
		t.Fatalf("plugins = %+v", plugins)
	}
	p := plugins[0]
	if p.Name != "echo" || p.Version != "1.0.0" || p.State != "running" ||
		p.Path != filepath.Join(dir, "echo-plugin") ||
		!slices.Equal(p.Tasks, []string{"echo-upper", "event-count", "wait"}) {
		t.Fatalf("plugin = %+v", p)
	}

	r = run(t, "", "plugin", "list", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.Contains(lines[1], "echo") || !strings.Contains(lines[1], "echo-upper,event-count,wait") ||
		!strings.Contains(lines[1], "running") {
		t.Fatalf("table:\n%s", r.stdout)
	}
}

func TestPluginListEmptyAndMissingDir(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	if r := run(t, "", "plugin", "list", "--dir", empty); r.code != 0 || !strings.Contains(r.stdout, "no plugins") {
		t.Fatalf("%s", r)
	}
	if r := run(t, "", "plugin", "list", "--dir", empty, "-o", "json"); r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("%s", r)
	}
	if r := run(t, "", "plugin", "list", "--dir", filepath.Join(empty, "nope")); r.code == 0 || !strings.Contains(r.stderr, "does not exist") {
		t.Fatalf("%s", r)
	}
	if r := run(t, "", "plugin", "list", "--dir", empty, "-o", "yaml"); r.code == 0 {
		t.Fatalf("%s", r)
	}
}
