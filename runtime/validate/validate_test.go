package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func files(m map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func TestExamplesAreValid(t *testing.T) {
	t.Parallel()
	rep := Path(t.Context(), newEngine(t), "../../docs/examples/tasks")
	if !rep.OK() || len(rep.Tasks) < 4 || len(rep.Problems) != 0 {
		var b bytes.Buffer
		rep.Write(&b)
		t.Fatalf("examples:\n%s", b.String())
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	t.Parallel()
	got := Files(t.Context(), newEngine(t), "bad", "bad", files(map[string]string{
		"metadata.json":      `{"name": "Bad Name", "uuid": "x", "version": 2, "timeout": -1, "tags": "a", "author": 5, "label": 1, "custom": true}`,
		"main.js":            "var notAFunction = 1;",
		"input.schema.json":  `{"type": "object", "required": ["a"]}`,
		"output.schema.json": `{"type": "wrong"}`,
		"tests/a.json":       `{"input": {}, "expected_output": 1}`,
		"tests/b.json":       `{"expected_output": 1, "expected_error": "x", "mock": {"http": {"url": ""}}}`,
		"tests/c.json":       `{"input": 1,`,
	}))
	want := []string{
		`error: bad/metadata.json: field "label" must be a string`,
		`error: bad/metadata.json: field "name" "Bad Name": a name must not contain ' '`,
		`error: bad/metadata.json: field "uuid" "x" is not a UUID`,
		`warning: bad/metadata.json: field "version" should be a string`,
		`error: bad/metadata.json: field "timeout" must be a positive number of seconds, got -1`,
		`error: bad/metadata.json: field "tags" must be a list of strings`,
		`error: bad/metadata.json: field "author" must be a string`,
		`error: bad/main.js: main.js does not yield a function`,
		`error: bad/output.schema.json: not a valid JSON Schema`,
		`error: bad/tests/a.json: input does not match input.schema.json: (root): missing property 'a'`,
		`error: bad/tests/b.json: "input" is missing`,
		`error: bad/tests/b.json: give either "expected_output" or "expected_error", not both`,
		`error: bad/tests/b.json: mock.http: "url" must be a non-empty string`,
		`error: bad/tests/c.json:1:12: invalid JSON`,
	}
	var lines []string
	for _, p := range got {
		lines = append(lines, p.String())
	}
	all := strings.Join(lines, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("missing %q in:\n%s", w, all)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), all)
	}
}

func TestWarningsAndSyntax(t *testing.T) {
	t.Parallel()
	got := Files(t.Context(), newEngine(t), "min", "min", files(map[string]string{"main.js": "function main(input) {\n  return input +;\n}"}))
	var lines []string
	for _, p := range got {
		lines = append(lines, p.String())
	}
	all := strings.Join(lines, "\n")
	for _, w := range []string{
		"warning: min/metadata.json: missing",
		"error: min/main.js:2:17: SyntaxError: Unexpected token",
		"warning: min/input.schema.json: missing: the task's input is not validated",
		"warning: min/output.schema.json: missing",
		"warning: min/tests: no tests",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("missing %q in:\n%s", w, all)
		}
	}
	ok := Report{Tasks: []string{"x"}, Problems: []Problem{{Severity: SeverityWarning}}}
	if !ok.OK() || ok.Warnings() != 1 {
		t.Error("warnings make a task invalid")
	}
}

func TestPathWithBrokenTasks(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for name, content := range map[string]string{
		"good/main.js":         "export default function(){ return 1 }",
		"good/metadata.json":   `{"name": "good"}`,
		"broken/main.js":       "function (",
		"broken/metadata.json": `{"name": 1}`,
		"not-a-task/README.md": "x",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	rep := Path(t.Context(), newEngine(t), root)
	if len(rep.Tasks) != 2 || rep.OK() || rep.Errors() != 2 {
		var b bytes.Buffer
		rep.Write(&b)
		t.Fatalf("report:\n%s", b.String())
	}
	var b bytes.Buffer
	rep.Write(&b)
	if !strings.Contains(b.String(), "invalid: 2 tasks, 2 errors, ") {
		t.Fatalf("report:\n%s", b.String())
	}
}

// TestMetadataRulesMatchLoader checks that validate reports an error for
// metadata.json exactly when the loader rejects it, with the same message.
func TestMetadataRulesMatchLoader(t *testing.T) {
	t.Parallel()
	eng := newEngine(t)
	tests := []struct {
		name     string
		metadata string
		wantErr  string // empty: accepted by both
	}{
		{"slug", `{"name": "ok-name"}`, ""},
		{"not a slug but usable", `{"name": "MyTask"}`, ""},
		{"spaces", `{"name": "My Task With Spaces!"}`, `a name must not contain ' '`},
		{"slash", `{"name": "a/b"}`, `a name must not contain '/'`},
		{"too long", `{"name": "` + strings.Repeat("a", 129) + `"}`, "a name must be at most 128 bytes"},
		{"empty name", `{"name": ""}`, `field "name" must not be empty`},
		{"blank name", `{"name": "  "}`, `field "name" must not be empty`},
		{"zero timeout", `{"timeout": 0}`, `field "timeout" must be a positive number of seconds`},
		{"huge timeout", `{"timeout": 1e9}`, `field "timeout" must be at most 31536000 seconds (365 days), got 1e9`},
		{"timeout string", `{"timeout": "30s"}`, ""},
		{"timeout seconds", `{"timeout": 30}`, ""},
		{"bom", "\ufeff{\"name\": \"bom\"}", ""},
		{"syntax error", "{\n  \"name\": \"x\",,\n}", "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := files(map[string]string{"main.js": "function main(){ return 1 }", "metadata.json": tt.metadata})
			_, loadErr := taskfmt.FromFiles("task", fs)
			var errs []string
			for _, p := range Files(t.Context(), eng, "task", "task", fs) {
				if p.Severity == SeverityError {
					errs = append(errs, p.String())
				}
			}
			if tt.wantErr == "" {
				if loadErr != nil || len(errs) > 0 {
					t.Fatalf("load: %v; validate: %q", loadErr, errs)
				}
				return
			}
			if loadErr == nil || !strings.Contains(loadErr.Error(), tt.wantErr) {
				t.Fatalf("load error = %v, want %q", loadErr, tt.wantErr)
			}
			if len(errs) != 1 || errs[0] != "error: "+loadErr.Error() {
				t.Fatalf("validate errors = %q, want [%q]", errs, "error: "+loadErr.Error())
			}
		})
	}
}

// TestFileLineColumnFormat checks that JSON syntax errors of every JSON file
// are reported as "file:line:col: message".
func TestFileLineColumnFormat(t *testing.T) {
	t.Parallel()
	eng := newEngine(t)
	bad := "{\n  \"a\": 1,,\n}"
	for _, f := range []string{taskfmt.MetadataFile, taskfmt.InputSchemaFile, taskfmt.OutputSchemaFile, "tests/t.json"} {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			got := Files(t.Context(), eng, "task", "task", files(map[string]string{"main.js": "function main(){ return 1 }", f: bad}))
			want := "error: task/" + f + ":2:10: invalid JSON"
			for _, p := range got {
				if strings.HasPrefix(p.String(), want) {
					return
				}
			}
			t.Fatalf("no %q in %v", want, got)
		})
	}
}
