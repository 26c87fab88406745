package taskfmt

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeTask(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var addition = map[string]string{
	"metadata.json":      `{"label": "Addition", "version": "2.0.0", "description": "adds", "timeout": 5, "tags": ["math"], "author": "me", "x-extra": {"kept": true}}`,
	"main.js":            "function main(input) { return {sum: input.a + input.b} }",
	"input.schema.json":  `{"type": "object", "required": ["a", "b"]}`,
	"output.schema.json": `{"type": "object"}`,
	"tests/b.json":       `{"name": "second", "input": {"a": 1, "b": 2}, "expected_output": {"sum": 3}}`,
	"tests/a.json":       `{"input": {"a": 1}, "expected_error": "InputValidationError", "mock": {"http": {"url": "x", "response": {"body": {"k": 1}}}}}`,
	"tests/notes.txt":    "ignored",
	"README.md":          "ignored",
}

func TestLoadFolder(t *testing.T) {
	t.Parallel()
	dir := writeTask(t, filepath.Join(t.TempDir(), "addition"), addition)
	task, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if task.Name != "addition" || task.Label != "Addition" || task.Version != "2.0.0" || task.Timeout != 5*time.Second ||
		task.Description != "adds" || task.Author != "me" || len(task.Tags) != 1 || task.Dir != dir {
		t.Fatalf("task = %+v", task)
	}
	if task.UUID != UUIDFor("addition") || len(task.UUID) != 36 {
		t.Fatalf("uuid = %q", task.UUID)
	}
	if !strings.Contains(string(task.Metadata), "x-extra") {
		t.Fatal("unknown metadata field dropped")
	}
	if task.InputSchema == nil || task.OutputSchema == nil {
		t.Fatal("schemas missing")
	}
	if len(task.Tests) != 2 || task.Tests[0].File != "tests/a.json" || task.Tests[1].Name != "second" || task.Tests[0].Name != "a" {
		t.Fatalf("tests = %+v", task.Tests)
	}
	if !task.Tests[0].ExpectsError() || task.Tests[0].ExpectedError != "InputValidationError" || len(task.Tests[0].Mocks) != 1 {
		t.Fatalf("test a = %+v", task.Tests[0])
	}
	if task.Tests[1].ExpectsError() || string(task.Tests[1].ExpectedOutput) != `{"sum": 3}` {
		t.Fatalf("test b = %+v", task.Tests[1])
	}
	again, err := Load(dir)
	if err != nil || again.Checksum != task.Checksum || len(task.Checksum) != 64 {
		t.Fatalf("checksum not stable: %s vs %s (%v)", again.Checksum, task.Checksum, err)
	}
	// A changed schema changes the checksum.
	writeTask(t, dir, map[string]string{"output.schema.json": `{"type": "array"}`})
	changed, err := Load(dir)
	if err != nil || changed.Checksum == task.Checksum {
		t.Fatal("checksum did not change with the schema")
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	task, err := FromFiles("hello", map[string][]byte{"main.js": []byte("(function(){ return 1 })")})
	if err != nil {
		t.Fatal(err)
	}
	if task.Name != "hello" || task.Label != "hello" || task.Version != DefaultVersion || task.UUID != UUIDFor("hello") ||
		task.InputSchema != nil || task.OutputSchema != nil || string(task.Metadata) != "{}" {
		t.Fatalf("task = %+v", task)
	}
	task, err = FromFiles("dir", map[string][]byte{
		"main.js":       []byte("(function(){ return 1 })"),
		"metadata.json": []byte(`{"name": "given", "uuid": "6F9619FF-8B86-D011-B42D-00C04FC964FF", "version": 3}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if task.Name != "given" || task.Label != "given" || task.UUID != "6f9619ff-8b86-d011-b42d-00c04fc964ff" || task.Version != "3" {
		t.Fatalf("task = %+v", task)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	good := "function main(){ return 1 }"
	tests := []struct {
		name      string
		files     map[string]string
		file      string
		line, col int
		msg       string
	}{
		{"no main", map[string]string{"metadata.json": `{}`}, "main.js", 0, 0, "missing"},
		{"syntax error", map[string]string{"main.js": "function main(input) {\n  return input +;\n}"}, "main.js", 2, 17, "SyntaxError"},
		{"metadata json", map[string]string{"main.js": good, "metadata.json": "{\n  \"name\": \"x\",,\n}"}, "metadata.json", 2, 15, "invalid JSON"},
		{"metadata not object", map[string]string{"main.js": good, "metadata.json": `[1]`}, "metadata.json", 0, 0, "must be a JSON object"},
		{"name type", map[string]string{"main.js": good, "metadata.json": `{"name": 5}`}, "metadata.json", 0, 0, `field "name" must be a string`},
		{"name with space", map[string]string{"main.js": good, "metadata.json": `{"name": "a b"}`}, "metadata.json", 0, 0, `field "name"`},
		{"timeout", map[string]string{"main.js": good, "metadata.json": `{"timeout": "soon"}`}, "metadata.json", 0, 0, `field "timeout"`},
		{"negative timeout", map[string]string{"main.js": good, "metadata.json": `{"timeout": -1}`}, "metadata.json", 0, 0, `field "timeout"`},
		{"tags", map[string]string{"main.js": good, "metadata.json": `{"tags": "a"}`}, "metadata.json", 0, 0, `field "tags"`},
		{"uuid", map[string]string{"main.js": good, "metadata.json": `{"uuid": "nope"}`}, "metadata.json", 0, 0, `field "uuid"`},
		{"bad schema", map[string]string{"main.js": good, "input.schema.json": `{"type": 5}`}, "input.schema.json", 0, 0, "not a valid JSON Schema"},
		{"schema not json", map[string]string{"main.js": good, "output.schema.json": `{`}, "output.schema.json", 1, 1, "invalid JSON"},
		{"schema syntax error", map[string]string{"main.js": good, "input.schema.json": "{\n  \"type\": \"object\",,\n}"}, "input.schema.json", 2, 20, "invalid JSON"},
		{"empty name", map[string]string{"main.js": good, "metadata.json": `{"name": ""}`}, "metadata.json", 0, 0, `field "name" must not be empty`},
		{"slash in name", map[string]string{"main.js": good, "metadata.json": `{"name": "a/b"}`}, "metadata.json", 0, 0, `must not contain '/'`},
		{"long name", map[string]string{"main.js": good, "metadata.json": `{"name": "` + strings.Repeat("a", 129) + `"}`}, "metadata.json", 0, 0, "at most 128 bytes"},
		{"zero timeout", map[string]string{"main.js": good, "metadata.json": `{"timeout": 0}`}, "metadata.json", 0, 0, `field "timeout" must be a positive number of seconds`},
		{"huge timeout", map[string]string{"main.js": good, "metadata.json": `{"timeout": 1e9}`}, "metadata.json", 0, 0, `field "timeout" must be at most 31536000 seconds (365 days), got 1e9`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string][]byte{}
			for k, v := range tt.files {
				files[k] = []byte(v)
			}
			_, err := FromFiles("task", files)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.File != tt.file || e.Line != tt.line || e.Column != tt.col || !strings.Contains(e.Error(), tt.msg) || !strings.HasPrefix(e.Error(), "task/"+tt.file) {
				t.Fatalf("err = %q (file %q line %d col %d)", e.Error(), e.File, e.Line, e.Column)
			}
		})
	}
}

func TestBadTestFiles(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{"main.js": []byte("function main(){ return 1 }")}
	cases := map[string]string{
		"tests/01.json": `{"input": 1,`,
		"tests/02.json": `[]`,
		"tests/03.json": `{"expected_output": 1}`,
		"tests/04.json": `{"input": 1, "expected_output": 1, "expected_error": "x"}`,
		"tests/05.json": `{"input": 1}`,
		"tests/06.json": `{"input": 1, "expected_error": 5}`,
		"tests/07.json": `{"input": 1, "expected_output": 1, "mock": {"http": {"response": {}}}}`,
		"tests/08.json": `{"input": 1, "expected_output": 1, "mock": {"http": [{"url": "a", "response": {"status": 1000}}]}}`,
		"tests/09.json": `{"input": 1, "expected_output": null}`,
	}
	want := map[string]string{
		"tests/01.json": "1:12: invalid JSON",
		"tests/02.json": "must be a JSON object",
		"tests/03.json": `"input" is missing`,
		"tests/04.json": "not both",
		"tests/05.json": "is missing",
		"tests/06.json": `"expected_error" must be a non-empty string`,
		"tests/07.json": `"url" must be a non-empty string`,
		"tests/08.json": `mock.http[0]: "response.status"`,
		"tests/09.json": "",
	}
	for k, v := range cases {
		files[k] = []byte(v)
	}
	task, err := FromFiles("t", files)
	if err != nil {
		t.Fatal(err)
	}
	if len(task.Tests) != len(cases) {
		t.Fatalf("tests = %d", len(task.Tests))
	}
	for _, tc := range task.Tests {
		w := want[tc.File]
		if (w == "") != (tc.Error == "") || !strings.Contains(tc.Error, w) {
			t.Errorf("%s: error %q, want %q", tc.File, tc.Error, w)
		}
	}
	if string(task.Tests[8].ExpectedOutput) != "null" || task.Tests[8].ExpectsError() {
		t.Errorf("expected_output null not kept: %+v", task.Tests[8])
	}
}

func TestLoadZip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	flat := map[string]string{}
	nested := map[string]string{}
	for k, v := range addition {
		flat[k] = v
		nested["addition/"+k] = v
	}
	delete(flat, "metadata.json") // the name comes from the zip
	for name, files := range map[string]map[string]string{"flat.zip": flat, "nested.zip": nested} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, zipOf(t, files), 0o644)
		task, err := Load(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantName := strings.TrimSuffix(name, ".zip")
		if task.Name != wantName || len(task.Tests) != 2 || task.InputSchema == nil {
			t.Fatalf("%s: task = %+v", name, task)
		}
	}
}

func TestZipSlipAndLimits(t *testing.T) {
	t.Parallel()
	main := "function main(){ return 1 }"
	for name, files := range map[string]map[string]string{
		"dotdot":   {"main.js": main, "../evil.json": "x"},
		"nested":   {"main.js": main, "tests/../../evil": "x"},
		"absolute": {"main.js": main, "/etc/evil": "x"},
		"windows":  {"main.js": main, "..\\evil": "x"},
	} {
		_, err := ReadZip(zipOf(t, files))
		if err == nil || !strings.Contains(err.Error(), "zip-slip") {
			t.Errorf("%s: err = %v, want zip-slip refusal", name, err)
		}
	}
	big := strings.Repeat("a", MaxFileBytes+1)
	if _, err := ReadZip(zipOf(t, map[string]string{"main.js": big})); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized file accepted: %v", err)
	}
	if _, err := ReadZip([]byte("not a zip")); err == nil {
		t.Error("garbage accepted as zip")
	}
}

func TestLoadDirAndDiscover(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTask(t, filepath.Join(root, "addition"), addition)
	writeTask(t, filepath.Join(root, "broken"), map[string]string{"main.js": "function ("})
	writeTask(t, filepath.Join(root, "not-a-task"), map[string]string{"README.md": "x"})
	os.WriteFile(filepath.Join(root, "zipped.zip"), zipOf(t, map[string]string{"main.js": "function main(){}"}), 0o644)
	tasks, errs := LoadDir(root)
	if len(tasks) != 2 || tasks[0].Name != "addition" || tasks[1].Name != "zipped" {
		t.Fatalf("tasks = %v", tasks)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "broken/main.js:1:") {
		t.Fatalf("errs = %v", errs)
	}
	one, errs := Discover(filepath.Join(root, "addition"))
	if len(one) != 1 || len(errs) != 0 {
		t.Fatalf("Discover(task) = %v, %v", one, errs)
	}
	if _, errs := Discover(filepath.Join(root, "not-a-task")); len(errs) != 1 {
		t.Fatalf("Discover(empty) errs = %v", errs)
	}
	if _, errs := Discover(filepath.Join(root, "missing")); len(errs) != 1 {
		t.Fatalf("Discover(missing) errs = %v", errs)
	}
}

func FuzzMetadata(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a","label":"b","uuid":"6f9619ff-8b86-d011-b42d-00c04fc964ff","version":"1","timeout":1.5,"tags":["x"],"author":{"name":"n"}}`,
		`[]`, `null`, `{"timeout":"5s"}`, `{"name":""}`, `{"version":1e400}`, `{"timeout":1e300}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, meta []byte) {
		task, err := FromFiles("fuzz", map[string][]byte{"main.js": []byte("function main(){}"), "metadata.json": meta})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != MetadataFile {
				t.Fatalf("error not about metadata.json: %v", err)
			}
			return
		}
		if task.Name == "" || task.UUID == "" || task.Version == "" || task.Checksum == "" || task.Timeout < 0 {
			t.Fatalf("incomplete task %+v", task)
		}
	})
}

func FuzzTestFile(f *testing.F) {
	f.Add([]byte(`{"input":1,"expected_output":2,"mock":{"http":[{"url":"u","response":{"body":"x"}}]}}`))
	f.Add([]byte(`{"input":1,"expected_error":"x"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		tc := ParseTest("tests/x.json", raw)
		if tc.Error == "" && tc.Input == nil {
			t.Fatal("valid test without input")
		}
	})
}

func TestJSONFilesWithBOM(t *testing.T) {
	t.Parallel()
	const bom = "\xef\xbb\xbf"
	base := map[string]string{
		"main.js":            "function main(input){ return input }",
		"metadata.json":      `{"name": "bom-task", "timeout": 5}`,
		"input.schema.json":  `{"type": "object"}`,
		"output.schema.json": `{"type": "object"}`,
		"tests/a.json":       "{\r\n  \"input\": {},\r\n  \"expected_output\": {}\r\n}",
	}
	for _, withBOM := range []string{"metadata.json", "input.schema.json", "output.schema.json", "tests/a.json"} {
		t.Run(withBOM, func(t *testing.T) {
			t.Parallel()
			files := map[string][]byte{}
			for k, v := range base {
				if k == withBOM {
					v = bom + v
				}
				files[k] = []byte(v)
			}
			task, err := FromFiles("task", files)
			if err != nil {
				t.Fatal(err)
			}
			if task.Name != "bom-task" || len(task.Tests) != 1 || task.Tests[0].Error != "" ||
				bytes.HasPrefix(task.Metadata, []byte(bom)) || bytes.HasPrefix(task.InputSchema, []byte(bom)) || bytes.HasPrefix(task.OutputSchema, []byte(bom)) {
				t.Fatalf("task = %+v", task)
			}
		})
	}
}
