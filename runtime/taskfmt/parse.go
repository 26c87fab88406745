package taskfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/ratchet-go/ratchet/runtime/fetch"
	"github.com/ratchet-go/ratchet/runtime/jsform"
	"github.com/ratchet-go/ratchet/runtime/schema"
)

// Error is a problem with one file of a task. Line and Column are set for
// JavaScript syntax errors and JSON syntax errors.
type Error struct {
	// Task is where the task was read from (a path), or its name.
	Task    string
	File    string
	Line    int
	Column  int
	Message string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Task != "" {
		b.WriteString(e.Task)
		if e.File != "" {
			b.WriteByte('/')
		}
	}
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// JSONError turns a JSON decoding error of data into a message with the line
// and column of a syntax error.
func JSONError(data []byte, err error) (line, col int, msg string) {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the offending byte: point at it.
		line, col = position(data, int(se.Offset)-1)
		return line, col, "invalid JSON: " + se.Error()
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col = position(data, int(te.Offset))
		return line, col, "invalid JSON: " + te.Error()
	}
	return 0, 0, "invalid JSON: " + err.Error()
}

func position(data []byte, off int) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > len(data) {
		off = len(data)
	}
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(data[:off], '\n')
	if col < 1 {
		col = 1
	}
	return line, col
}

// FromFiles builds a task from its files, keyed by their path in the task
// folder with forward slashes ("main.js", "tests/basic.json"). name is the
// default name (the folder or zip name); metadata may override it. Files
// other than those of a task are ignored.
func FromFiles(name string, files map[string][]byte) (*Task, error) {
	return fromFiles(name, name, files)
}

func fromFiles(source, defaultName string, files map[string][]byte) (*Task, error) {
	files = TrimBOMs(files)
	fail := func(file string, format string, args ...any) error {
		return &Error{Task: source, File: file, Message: fmt.Sprintf(format, args...)}
	}
	total := 0
	for f, data := range files {
		if len(data) > MaxFileBytes {
			return nil, fail(f, "file is %d bytes, more than the limit of %d", len(data), MaxFileBytes)
		}
		total += len(data)
	}
	if total > MaxTotalBytes {
		return nil, fail("", "task files total %d bytes, more than the limit of %d", total, MaxTotalBytes)
	}

	t := &Task{Metadata: json.RawMessage("{}")}
	if raw, ok := files[MetadataFile]; ok {
		if err := parseMetadata(t, raw); err != nil {
			return nil, withTask(err, source)
		}
		t.Metadata = append(json.RawMessage(nil), bytes.TrimSpace(raw)...)
	}
	if t.Name == "" {
		t.Name = strings.TrimSpace(defaultName)
		if err := CheckName(t.Name); err != nil {
			return nil, fail(MetadataFile, "no name in metadata.json and the default %q cannot be used: %v", t.Name, err)
		}
	}
	if t.Label == "" {
		t.Label = t.Name
	}
	if t.Version == "" {
		t.Version = DefaultVersion
	}
	if t.UUID == "" {
		t.UUID = UUIDFor(t.Name)
	}

	code, ok := files[MainFile]
	if !ok {
		return nil, fail(MainFile, "missing: a task needs a main.js that yields its function")
	}
	t.Code = string(code)
	if _, err := jsform.Compile(MainFile, t.Code); err != nil {
		var se *jsform.SyntaxError
		if errors.As(err, &se) {
			return nil, &Error{Task: source, File: MainFile, Line: se.Line, Column: se.Column, Message: "SyntaxError: " + se.Message, Err: err}
		}
		return nil, &Error{Task: source, File: MainFile, Message: err.Error(), Err: err}
	}

	for _, f := range []struct {
		name string
		dst  *json.RawMessage
	}{{InputSchemaFile, &t.InputSchema}, {OutputSchemaFile, &t.OutputSchema}} {
		raw, ok := files[f.name]
		if !ok {
			continue
		}
		if _, err := CompileSchema(f.name, raw); err != nil {
			err.Task = source
			return nil, err
		}
		*f.dst = append(json.RawMessage(nil), bytes.TrimSpace(raw)...)
	}

	var testFiles []string
	for f := range files {
		if dir, base := path.Split(f); dir == TestsDir+"/" && strings.HasSuffix(base, ".json") {
			testFiles = append(testFiles, f)
		}
	}
	sort.Strings(testFiles)
	for _, f := range testFiles {
		t.Tests = append(t.Tests, ParseTest(f, files[f]))
	}
	t.Checksum = Checksum(t.Code, t.InputSchema, t.OutputSchema, t.Metadata)
	return t, nil
}

func withTask(err error, source string) error {
	var e *Error
	if errors.As(err, &e) && e.Task == "" {
		e.Task = source
	}
	return err
}

// CheckName is the rule for a task name, shared by the loader and
// `validate`: no spaces, no slashes, no control characters, not "." or "..",
// at most MaxNameBytes bytes, and not empty.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("a name must not be empty")
	case len(name) > MaxNameBytes:
		return fmt.Errorf("a name must be at most %d bytes, got %d", MaxNameBytes, len(name))
	case name == "." || name == "..":
		return errors.New("a name must not be . or ..")
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' || r == '\\' {
			return fmt.Errorf("a name must not contain %q", r)
		}
	}
	return nil
}

// MaxNameBytes is the longest task name.
const MaxNameBytes = 128

// MaxTimeout is the longest task timeout metadata.json may give.
const MaxTimeout = 365 * 24 * time.Hour

func parseMetadata(t *Task, raw []byte) error {
	if errs := readMetadata(t, raw); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// CheckMetadata reads metadata.json as the loader does and returns every
// problem that makes the loader reject it (nil when it is accepted), with
// the task's fields it could read. `validate` reports these problems, so
// both apply the same rules.
func CheckMetadata(raw []byte) (*Task, []*Error) {
	t := &Task{}
	return t, readMetadata(t, raw)
}

// readMetadata fills t from metadata.json and returns its problems. A JSON
// syntax error is the only problem reported when there is one.
func readMetadata(t *Task, raw []byte) []*Error {
	var errs []*Error
	fail := func(format string, args ...any) {
		errs = append(errs, &Error{File: MetadataFile, Message: fmt.Sprintf(format, args...)})
	}
	raw = TrimBOM(raw)
	var fields map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); json.Valid(t) && (len(t) == 0 || t[0] != '{') {
		fail("must be a JSON object, got %s", describe(t))
		return errs
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		line, col, msg := JSONError(raw, err)
		return []*Error{{File: MetadataFile, Line: line, Column: col, Message: msg, Err: err}}
	}
	if fields == nil {
		fail("must be a JSON object")
		return errs
	}
	str := func(key string, dst *string) bool {
		v, ok := fields[key]
		if !ok || string(v) == "null" {
			return false
		}
		if err := json.Unmarshal(v, dst); err != nil {
			fail("field %q must be a string, got %s", key, describe(v))
			return false
		}
		*dst = strings.TrimSpace(*dst)
		return true
	}
	str("label", &t.Label)
	str("description", &t.Description)
	if str("name", &t.Name) {
		if t.Name == "" {
			fail(`field "name" must not be empty: omit it to name the task after its folder`)
		} else if err := CheckName(t.Name); err != nil {
			fail("field \"name\" %q: %v", t.Name, err)
		}
	}
	if v, ok := fields["uuid"]; ok && string(v) != "null" {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			fail("field \"uuid\" must be a string, got %s", describe(v))
		} else if u, err := uuid.Parse(strings.TrimSpace(s)); err != nil {
			fail("field \"uuid\" %q is not a UUID", s)
		} else {
			t.UUID = u.String()
		}
	}
	if v, ok := fields["version"]; ok && string(v) != "null" {
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(v, &s) == nil:
			t.Version = strings.TrimSpace(s)
		case json.Unmarshal(v, &n) == nil:
			t.Version = n.String()
		default:
			fail("field \"version\" must be a string such as \"1.0.0\", got %s", describe(v))
		}
	}
	if v, ok := fields["timeout"]; ok && string(v) != "null" {
		d, err := parseTimeout(v)
		if err != nil {
			fail("field \"timeout\" %v", err)
		}
		t.Timeout = d
	}
	if v, ok := fields["tags"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &t.Tags); err != nil {
			fail("field \"tags\" must be a list of strings, got %s", describe(v))
		}
	}
	if v, ok := fields["author"]; ok && string(v) != "null" {
		var s string
		var o struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		}
		switch {
		case json.Unmarshal(v, &s) == nil:
			t.Author = s
		case json.Unmarshal(v, &o) == nil:
			t.Author = o.Name
			if o.Email != "" {
				t.Author = strings.TrimSpace(o.Name + " <" + o.Email + ">")
			}
		default:
			fail("field \"author\" must be a string, got %s", describe(v))
		}
	}
	return errs
}

// CompileSchema compiles a schema file of a task, for the loader and
// `validate` alike. Its error names the file, with the line and column of a
// JSON syntax error.
func CompileSchema(file string, raw []byte) (*schema.Schema, *Error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		line, col, msg := JSONError(raw, err)
		return nil, &Error{File: file, Line: line, Column: col, Message: msg, Err: err}
	}
	s, err := schema.Compile(file, raw)
	if err != nil {
		var ce *schema.CompileError
		msg := err.Error()
		if errors.As(err, &ce) {
			msg = "not a valid JSON Schema: " + ce.Err.Error()
		}
		return nil, &Error{File: file, Message: msg, Err: err}
	}
	return s, nil
}

// TrimBOMs returns files with the UTF-8 byte order mark removed from the
// start of every JSON file (metadata, schemas, tests); other files are kept
// as they are. files itself is not changed.
func TrimBOMs(files map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for f, data := range files {
		if strings.HasSuffix(f, ".json") {
			data = TrimBOM(data)
		}
		out[f] = data
	}
	return out
}

// TrimBOM removes a leading UTF-8 byte order mark, which some editors write
// at the start of JSON files.
func TrimBOM(data []byte) []byte {
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
}

// parseTimeout reads a task timeout: a positive number of seconds (or a Go
// duration string such as "30s"), at most MaxTimeout.
func parseTimeout(v json.RawMessage) (time.Duration, error) {
	var d time.Duration
	var f float64
	var s string
	switch {
	case json.Unmarshal(v, &f) == nil:
		if math.IsNaN(f) || f <= 0 {
			return 0, fmt.Errorf("must be a positive number of seconds, got %s: omit it for the default", v)
		}
		if f > MaxTimeout.Seconds() {
			return 0, fmt.Errorf("must be at most %.0f seconds (365 days), got %s", MaxTimeout.Seconds(), v)
		}
		d = time.Duration(f * float64(time.Second))
	case json.Unmarshal(v, &s) == nil:
		var err error
		d, err = time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("must be a positive number of seconds, got %s", describe(v))
		}
		if d > MaxTimeout {
			return 0, fmt.Errorf("must be at most %.0f seconds (365 days), got %s", MaxTimeout.Seconds(), v)
		}
	default:
		return 0, fmt.Errorf("must be a number of seconds, got %s", describe(v))
	}
	if d < time.Millisecond {
		return 0, fmt.Errorf("must be at least 0.001 seconds, got %s", v)
	}
	return d, nil
}

func describe(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	kind := "a value"
	if len(v) > 0 {
		switch v[0] {
		case '"':
			kind = "a string"
		case '{':
			kind = "an object"
		case '[':
			kind = "a list"
		case 't', 'f':
			kind = "a boolean"
		case 'n':
			kind = "null"
		default:
			kind = "a number"
		}
	}
	s := string(v)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return kind + " (" + s + ")"
}

// ParseTest reads one test file. A file that is not a valid test case yields
// a TestCase with Error set.
func ParseTest(file string, raw []byte) TestCase {
	raw = TrimBOM(raw)
	tc := TestCase{File: file, Name: strings.TrimSuffix(path.Base(file), ".json"), Raw: append(json.RawMessage(nil), bytes.TrimSpace(raw)...)}
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		line, col, msg := JSONError(raw, err)
		tc.Raw = nil
		tc.Error = fmt.Sprintf("%d:%d: %s", line, col, msg)
		tc.ErrorLine, tc.ErrorColumn = line, col
		return tc
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		tc.Error = "a test file must be a JSON object {input, expected_output | expected_error, mock?}"
		return tc
	}
	var problems []string
	if v, ok := fields["name"]; ok {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			problems = append(problems, `"name" must be a string`)
		} else if strings.TrimSpace(s) != "" {
			tc.Name = strings.TrimSpace(s)
		}
	}
	if v, ok := fields["description"]; ok {
		if err := json.Unmarshal(v, &tc.Description); err != nil {
			problems = append(problems, `"description" must be a string`)
		}
	}
	if v, ok := fields["input"]; ok {
		tc.Input = v
	} else {
		problems = append(problems, `"input" is missing`)
	}
	out, hasOut := fields["expected_output"]
	errv, hasErr := fields["expected_error"]
	switch {
	case hasOut && hasErr:
		problems = append(problems, `give either "expected_output" or "expected_error", not both`)
	case !hasOut && !hasErr:
		problems = append(problems, `"expected_output" or "expected_error" is missing`)
	case hasOut:
		tc.ExpectedOutput = out
	default:
		if err := json.Unmarshal(errv, &tc.ExpectedError); err != nil || strings.TrimSpace(tc.ExpectedError) == "" {
			problems = append(problems, `"expected_error" must be a non-empty string: an error type such as "ValidationError", or part of the message`)
			tc.ExpectedError = ""
		}
	}
	if v, ok := fields["mock"]; ok && string(v) != "null" {
		var mock map[string]json.RawMessage
		if err := json.Unmarshal(v, &mock); err != nil || mock == nil {
			problems = append(problems, `"mock" must be an object {"http": mock or list of mocks}`)
		} else {
			for k := range mock {
				if k != "http" {
					problems = append(problems, fmt.Sprintf(`"mock.%s" is not supported: only "mock.http"`, k))
				}
			}
			mocks, err := fetch.ParseMocks(mock["http"])
			if err != nil {
				problems = append(problems, err.Error())
			}
			tc.Mocks = mocks
		}
	}
	sort.Strings(problems)
	tc.Error = strings.Join(problems, "; ")
	return tc
}
