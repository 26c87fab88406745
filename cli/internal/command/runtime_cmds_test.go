package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exampleTasks is the folder of shipped example tasks.
var exampleTasks = filepath.Join("..", "..", "..", "docs", "examples", "tasks")

func TestRunOnce(t *testing.T) {
	addition := filepath.Join(exampleTasks, "addition")
	inputFile := writeFile(t, "input.json", `{"num1": 40, "num2": 2}`)
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "main.js"), []byte("function(input) {"), 0o644); err != nil {
		t.Fatal(err)
	}
	chatty := t.TempDir()
	if err := os.WriteFile(filepath.Join(chatty, "main.js"), []byte("function(input) { console.log('hello', 1); console.warn('careful'); return 7; }"), 0o644); err != nil {
		t.Fatal(err)
	}
	loop := t.TempDir()
	if err := os.WriteFile(filepath.Join(loop, "main.js"), []byte("function(input) { while (true) {} }"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		stdin      string
		args       []string
		code       int
		stdout     string
		stderrHead string
	}{
		{"inline input", "", []string{"--from-fs", addition, "--input-json", `{"num1":1,"num2":2}`}, 0, `{"sum":3}`, ""},
		{"input file", "", []string{"--from-fs", addition, "--input-file", inputFile}, 0, `{"sum":42}`, ""},
		{"stdin input", `{"num1":2,"num2":2}`, []string{"--from-fs", addition, "--input-file", "-"}, 0, `{"sum":4}`, ""},
		{"isolated", "", []string{"--isolated", "--from-fs", addition, "--input-json", `{"num1":5,"num2":5}`}, 0, `{"sum":10}`, ""},
		{"input not matching the schema", "", []string{"--from-fs", addition, "--input-json", `{"num1":1}`}, 1, "", "InputValidationError: "},
		{"malformed input", "", []string{"--from-fs", addition, "--input-json", `{nope`}, 2, "", "Error: --input-json is not valid JSON"},
		{"no input", "", []string{"--from-fs", addition}, 2, "", "Error: "},
		{"both inputs", "", []string{"--from-fs", addition, "--input-json", "{}", "--input-file", inputFile}, 2, "", "Error: "},
		{"syntax error", "", []string{"--from-fs", broken, "--input-json", "{}"}, 1, "", "CompileError: "},
		{"missing folder", "", []string{"--from-fs", filepath.Join(t.TempDir(), "none"), "--input-json", "{}"}, 1, "", ""},
		{"timeout", "", []string{"--from-fs", loop, "--input-json", "{}", "--timeout", "100ms"}, 1, "", "TimeoutError: "},
		{"negative timeout", "", []string{"--from-fs", addition, "--input-json", "{}", "--timeout", "-1s"}, 2, "", "Error: --timeout must not be negative"},
		{"console output with --logs", "", []string{"--logs", "--from-fs", chatty, "--input-json", "{}"}, 0, "7", "[info] hello 1\n[warn] careful\n"},
		{"console output hidden by default", "", []string{"--from-fs", chatty, "--input-json", "{}"}, 0, "7", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, append([]string{"run-once"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\n%s", r.code, tt.code, r)
			}
			if tt.stdout != "" && strings.TrimSpace(r.stdout) != tt.stdout {
				t.Fatalf("stdout = %q, want %q", r.stdout, tt.stdout)
			}
			if tt.code != 0 && r.stdout != "" {
				t.Fatalf("a failure printed on stdout: %q", r.stdout)
			}
			if tt.stderrHead != "" && !strings.HasPrefix(r.stderr, tt.stderrHead) {
				t.Fatalf("stderr = %q, want it to start with %q", r.stderr, tt.stderrHead)
			}
		})
	}
}

func TestRunOnceRecordAndReplay(t *testing.T) {
	// addition makes no HTTP calls: its recording has an empty HAR and a
	// replay must match.
	dir := filepath.Join(t.TempDir(), "rec")
	addition := filepath.Join(exampleTasks, "addition")
	if r := run(t, "", "run-once", "--from-fs", addition, "--input-json", `{"num1":1,"num2":2}`, "--record", dir); r.code != 0 {
		t.Fatalf("run-once --record: %s", r)
	}
	for _, f := range []string{"input.json", "output.json", "requests.har"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("recording lacks %s: %v", f, err)
		}
		if !json.Valid(b) {
			t.Fatalf("%s is not JSON: %s", f, b)
		}
	}
	if r := run(t, "", "replay", "--from-fs", addition, "--recording", dir); r.code != 0 || !strings.Contains(r.stdout, "matches") {
		t.Fatalf("replay: %s", r)
	}
	// Change the recorded output: the replay must say it no longer matches.
	if err := os.WriteFile(filepath.Join(dir, "output.json"), []byte(`{"sum":4}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "", "replay", "--from-fs", addition, "--recording", dir); r.code != 1 || !strings.Contains(r.stdout, "does not match") {
		t.Fatalf("replay of a changed recording: %s", r)
	}
	if r := run(t, "", "run-once", "--isolated", "--record", dir, "--from-fs", addition, "--input-json", "{}"); r.code != 2 {
		t.Fatalf("--isolated with --record: %s", r)
	}
}

func TestTestCommand(t *testing.T) {
	r := run(t, "", "test", "--from-fs", exampleTasks)
	if r.code != 0 {
		t.Fatalf("the shipped exampleTasks fail their tests: %s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	last := lines[len(lines)-1]
	if !strings.HasSuffix(last, " passed, 0 failed") {
		t.Fatalf("last line = %q", last)
	}

	failing := t.TempDir()
	files := map[string]string{
		"main.js":            "function(input) { return {doubled: input.n * 3} }",
		"tests/01-ok.json":   `{"input": {"n": 0}, "expected_output": {"doubled": 0}}`,
		"tests/02-bad.json":  `{"input": {"n": 2}, "expected_output": {"doubled": 4}}`,
		"metadata.json":      `{"name": "doubler"}`,
		"input.schema.json":  `{"type": "object"}`,
		"output.schema.json": `{"type": "object"}`,
	}
	for name, content := range files {
		p := filepath.Join(failing, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = run(t, "", "test", "--from-fs", failing)
	lines = strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 1 || lines[len(lines)-1] != "1 passed, 1 failed" {
		t.Fatalf("failing task: %s", r)
	}
	for _, format := range []string{"json", "junit"} {
		if r := run(t, "", "test", "--from-fs", failing, "--output", format); r.code != 1 || r.stdout == "" {
			t.Fatalf("--output %s: %s", format, r)
		}
	}
	if r := run(t, "", "test", "--from-fs", failing, "--output", "xml"); r.code != 2 {
		t.Fatalf("--output xml: %s", r)
	}
}

func TestValidateAndGenerate(t *testing.T) {
	if r := run(t, "", "validate", "--from-fs", exampleTasks); r.code != 0 {
		t.Fatalf("validate exampleTasks: %s", r)
	}
	dir := filepath.Join(t.TempDir(), "greeter")
	if r := run(t, "", "generate", "task", "--path", dir, "--description", "says hello"); r.code != 0 {
		t.Fatalf("generate: %s", r)
	}
	if r := run(t, "", "test", "--from-fs", dir); r.code != 0 {
		t.Fatalf("the generated task's tests fail: %s", r)
	}
	if r := run(t, "", "validate", "--from-fs", dir); r.code != 0 {
		t.Fatalf("validate generated: %s", r)
	}
	if err := os.WriteFile(filepath.Join(dir, "input.schema.json"), []byte(`{"type": 12}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tests", "09-shape.json"), []byte(`{"expected_output": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "validate", "--from-fs", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "input.schema.json") || !strings.Contains(r.stdout, "09-shape.json") {
		t.Fatalf("validate should list both problems: %s", r)
	}
}
