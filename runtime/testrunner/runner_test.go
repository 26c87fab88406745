package testrunner

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const examples = "../../docs/examples/tasks"

func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExamplesPass(t *testing.T) {
	t.Parallel()
	rep := RunPath(t.Context(), newEngine(t), examples)
	var buf bytes.Buffer
	if err := rep.Write(&buf, FormatText); err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Passed < 20 {
		t.Fatalf("examples do not pass:\n%s", buf.String())
	}
	names := map[string]bool{}
	for _, tr := range rep.Tasks {
		names[tr.Task] = true
	}
	for _, n := range []string{"addition", "weather-api", "async-pipeline", "order-validation"} {
		if !names[n] {
			t.Errorf("example %s missing", n)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.HasPrefix(lines[0], "PASS addition/basic — adds two positive numbers (") {
		t.Errorf("first line = %q", lines[0])
	}
	if last := lines[len(lines)-1]; last != rep.Summary() || !strings.HasSuffix(last, " passed, 0 failed") {
		t.Errorf("last line = %q", last)
	}
}

func writeTask(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mixedTask(t *testing.T) string {
	return writeTask(t, filepath.Join(t.TempDir(), "mixed"), map[string]string{
		"main.js": `async function main(input) {
			if (input.fail) throw new ValidationError("bad input: " + input.fail);
			if (input.url) { const r = fetch(input.url); return r.body; }
			console.log("computing");
			return {sum: input.a + input.b, items: [1, 2, 3], name: "x"};
		}`,
		"tests/01-pass.json":             `{"input": {"a": 1, "b": 2}, "expected_output": {"name": "x", "items": [1, 2.0, 3e0], "sum": 3.0}}`,
		"tests/02-wrong-output.json":     `{"name": "wrong", "input": {"a": 1, "b": 2}, "expected_output": {"sum": 4, "items": [1, 2], "name": "x", "extra": true}}`,
		"tests/03-error-type.json":       `{"input": {"fail": "nope"}, "expected_error": "ValidationError"}`,
		"tests/04-error-message.json":    `{"input": {"fail": "nope"}, "expected_error": "bad input: no"}`,
		"tests/05-wrong-error.json":      `{"input": {"fail": "nope"}, "expected_error": "NotFoundError"}`,
		"tests/06-no-error.json":         `{"input": {"a": 1, "b": 1}, "expected_error": "ValidationError"}`,
		"tests/07-unexpected-error.json": `{"input": {"fail": "x"}, "expected_output": {"sum": 1}}`,
		"tests/08-mock.json":             `{"input": {"url": "https://api.test/v1/thing"}, "mock": {"http": [{"url": "api.test/v1/other", "response": {"body": 0}}, {"url": "api.test/v1", "method": "GET", "response": {"body": {"ok": 1}}}]}, "expected_output": {"ok": 1}}`,
		"tests/09-network-off.json":      `{"input": {"url": "https://api.test/v1/thing"}, "expected_error": "no mock matches GET https://api.test/v1/thing"}`,
		"tests/10-invalid.json":          `{"input": 1}`,
		"tests/11-mock-error.json":       `{"input": {"url": "https://api.test/x"}, "mock": {"http": {"url": "api.test", "response": {"status": 429}}}, "expected_error": "RateLimitError"}`,
	})
}

func TestPassAndFail(t *testing.T) {
	t.Parallel()
	task, err := taskfmt.Load(mixedTask(t))
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(t.Context(), newEngine(t), []*taskfmt.Task{task})
	want := map[string]bool{
		"01-pass": true, "wrong": false, "03-error-type": true, "04-error-message": true, "05-wrong-error": false,
		"06-no-error": false, "07-unexpected-error": false, "08-mock": true, "09-network-off": true, "10-invalid": false,
		"11-mock-error": true,
	}
	if rep.Passed != 6 || rep.Failed != 5 || rep.OK() {
		t.Fatalf("passed %d failed %d", rep.Passed, rep.Failed)
	}
	var files []string
	for _, r := range rep.Tasks[0].Tests {
		files = append(files, r.File)
		if want[r.Name] != r.Passed {
			t.Errorf("%s: passed = %v (%s)", r.Name, r.Passed, r.Message)
		}
		if r.Passed && r.Duration <= 0 {
			t.Errorf("%s: no duration", r.Name)
		}
	}
	if strings.Join(files, ",") != "tests/01-pass.json,tests/02-wrong-output.json,tests/03-error-type.json,tests/04-error-message.json,tests/05-wrong-error.json,tests/06-no-error.json,tests/07-unexpected-error.json,tests/08-mock.json,tests/09-network-off.json,tests/10-invalid.json,tests/11-mock-error.json" {
		t.Errorf("order = %v", files)
	}
	wrong := rep.Tasks[0].Tests[1]
	wantDiff := []string{"$.extra: missing (expected true)", "$.items[2]: unexpected (got 3)", "$.items: expected 2 items, got 3", "$.sum: expected 4, got 3"}
	_ = wantDiff
	got := strings.Join(wrong.Diff, "\n")
	for _, d := range []string{"$.extra: missing (expected true)", "$.items: expected 2 items, got 3", "$.items[2]: unexpected (got 3)", "$.sum: expected 4, got 3"} {
		if !strings.Contains(got, d) {
			t.Errorf("diff lacks %q:\n%s", d, got)
		}
	}

	var text bytes.Buffer
	if err := rep.Write(&text, FormatText); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, s := range []string{
		"PASS mixed/01-pass (",
		"FAIL mixed/02-wrong-output — wrong (",
		"    output differs from expected_output\n      $.extra: missing (expected true)\n",
		"FAIL mixed/05-wrong-error (",
		`expected an error matching "NotFoundError", got ValidationError: bad input: nope`,
		"FAIL mixed/10-invalid",
		`invalid test file: "expected_output" or "expected_error" is missing`,
		"    console:\n      [info] computing",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("text report lacks %q:\n%s", s, out)
		}
	}
	if !strings.HasSuffix(out, "\n6 passed, 5 failed\n") {
		t.Errorf("last line wrong:\n%s", out)
	}

	var js bytes.Buffer
	if err := rep.Write(&js, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Passed, Failed int
		Tasks          []struct {
			Tests []struct {
				Status     string
				DurationMS float64 `json:"duration_ms"`
				Diff       []string
			}
		}
	}
	if err := json.Unmarshal(js.Bytes(), &parsed); err != nil || parsed.Passed != 6 || parsed.Failed != 5 || parsed.Tasks[0].Tests[1].Status != "fail" || len(parsed.Tasks[0].Tests[1].Diff) != 4 {
		t.Errorf("json report = %s (%v)", js.String(), err)
	}

	var junit bytes.Buffer
	if err := rep.Write(&junit, FormatJUnit); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Tests != 11 || suites.Failures != 5 || len(suites.Suites) != 1 || suites.Suites[0].Cases[1].Failure == nil || suites.Suites[0].Cases[0].Failure != nil {
		t.Errorf("junit = %s", junit.String())
	}
}

func TestRunPathReportsLoadErrors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTask(t, filepath.Join(root, "good"), map[string]string{
		"main.js": "function main(i){ return i }", "tests/a.json": `{"input": 1, "expected_output": 1}`,
	})
	writeTask(t, filepath.Join(root, "broken"), map[string]string{"main.js": "function main( {"})
	rep := RunPath(t.Context(), newEngine(t), root)
	if rep.Passed != 1 || rep.Failed != 1 {
		t.Fatalf("passed %d failed %d", rep.Passed, rep.Failed)
	}
	var buf bytes.Buffer
	rep.Write(&buf, FormatText)
	if !strings.Contains(buf.String(), "FAIL "+filepath.Join(root, "broken")+" (task did not load)") || !strings.Contains(buf.String(), "main.js:1:") {
		t.Fatalf("report:\n%s", buf.String())
	}
	var junit bytes.Buffer
	if err := rep.Write(&junit, FormatJUnit); err != nil || !strings.Contains(junit.String(), `<error message=`) {
		t.Fatalf("junit:\n%s", junit.String())
	}
}

func TestErrorMatches(t *testing.T) {
	t.Parallel()
	typeErr := core.NewError("TypeError", "cannot read property x of undefined")
	dataErr := core.NewError("DataError", "boom happened")
	inputErr := core.NewError(core.KindInputValidation, "input: n: expected number")
	for _, tc := range []struct {
		expected string
		err      *core.Error
		want     bool
	}{
		{"TypeError", typeErr, true},
		{"property x", typeErr, true},
		{"typeerror", typeErr, false},
		{"TypeError: cannot", typeErr, false},
		{"RangeError", typeErr, false},
		{"Type", typeErr, false},
		{"DataError", dataErr, true},
		{"Data", dataErr, false},
		{"Error", dataErr, false},
		{"DataError: boom happened", dataErr, false},
		{"BOOM", dataErr, false},
		{"boom", dataErr, true},
		{"ValidationError", inputErr, false},
		{"", dataErr, false},
	} {
		if got := ErrorMatches(tc.expected, tc.err); got != tc.want {
			t.Errorf("ErrorMatches(%q, %s) = %v, want %v", tc.expected, describeErr(tc.err), got, tc.want)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}

// TestTopLevelFailuresFail checks that a task whose top level fails is one
// failure, with or without tests, and that a top-level fetch is left to the
// tests' mocks.
func TestTopLevelFailuresFail(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(engine.Config{MaxExecutionDuration: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	test := `{"input": {}, "expected_output": {"a": 1}}`
	mocked := `{"input": {}, "mock": {"http": {"url": "x.test", "response": {"body": {"a": 1}}}}, "expected_output": {"a": 1}}`
	tests := []struct {
		name       string
		code       string
		tests      map[string]string
		wantLoad   string
		wantPassed int
	}{
		{"top-level throw", `throw new Error("top-level boom"); function main(){ return {a: 1} }`, nil, "top-level boom", 0},
		{"top-level throw with tests", `throw new Error("top-level boom"); function main(){ return {a: 1} }`, map[string]string{"tests/a.json": test}, "top-level boom", 0},
		{"top-level loop", `while (true) {} function main(){ return {a: 1} }`, nil, "TimeoutError", 0},
		{"no function", `var x = 1;`, nil, "does not yield a function", 0},
		{"good", `function main(){ return {a: 1} }`, map[string]string{"tests/a.json": test}, "", 1},
		{"top-level fetch, mocked in tests", `var cfg = fetch("https://x.test/c").body; function main(){ return cfg }`, map[string]string{"tests/a.json": mocked}, "", 1},
		{"top-level fetch, no tests", `var cfg = fetch("https://x.test/c").body; function main(){ return cfg }`, nil, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string][]byte{"main.js": []byte(tt.code)}
			for k, v := range tt.tests {
				files[k] = []byte(v)
			}
			task, err := taskfmt.FromFiles("task", files)
			if err != nil {
				t.Fatal(err)
			}
			rep := Run(t.Context(), eng, []*taskfmt.Task{task})
			tr := rep.Tasks[0]
			if tt.wantLoad == "" {
				if tr.LoadError != "" || !rep.OK() || rep.Passed != tt.wantPassed {
					t.Fatalf("report = %+v", rep)
				}
				return
			}
			if !strings.Contains(tr.LoadError, tt.wantLoad) || !strings.HasPrefix(tr.LoadError, "task/main.js: ") || rep.OK() || rep.Failed != 1 || len(tr.Tests) != 0 {
				t.Fatalf("report = %+v", rep)
			}
		})
	}
}
