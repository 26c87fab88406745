// Package validate checks tasks for `ratchet validate` and the API's
// validate endpoint: metadata fields and their types, that each schema is a
// valid JSON Schema, that main.js compiles and yields a function, and the
// shape of every test file. It reports every problem found, not only the
// first, each naming its file; missing schemas and tests are warnings.
package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/jsform"
	"github.com/ratchet-go/ratchet/runtime/schema"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
)

// Severity says whether a problem makes the task invalid.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding.
type Problem struct {
	// Task is the task's path (or name for uploads).
	Task     string   `json:"task"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(string(p.Severity))
	b.WriteString(": ")
	b.WriteString(p.Task)
	if p.File != "" {
		b.WriteString("/" + p.File)
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": " + p.Message)
	return b.String()
}

// Report is the outcome of validating one or more tasks.
type Report struct {
	// Tasks are the tasks checked, by path or name.
	Tasks    []string  `json:"tasks"`
	Problems []Problem `json:"problems"`
}

// OK reports whether no problem is an error.
func (r Report) OK() bool { return r.Errors() == 0 }

// Errors counts the problems that are errors.
func (r Report) Errors() int {
	n := 0
	for _, p := range r.Problems {
		if p.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Warnings counts the problems that are warnings.
func (r Report) Warnings() int { return len(r.Problems) - r.Errors() }

// Path validates the task at p, or every task in the folder p.
func Path(ctx context.Context, eng *engine.Engine, p string) Report {
	var rep Report
	if taskfmt.IsTask(p) {
		rep.Tasks = []string{p}
		rep.Problems = pathTask(ctx, eng, p)
		return rep
	}
	tasks, errs := taskfmt.LoadDir(p)
	// LoadDir fails on broken tasks; validate each candidate on its own.
	seen := map[string]bool{}
	for _, t := range tasks {
		seen[t.Dir] = true
	}
	paths := make([]string, 0, len(tasks)+len(errs))
	for _, t := range tasks {
		paths = append(paths, t.Dir)
	}
	for _, err := range errs {
		var le *taskfmt.Error
		if errors.As(err, &le) && le.Task != "" && le.Task != p && !seen[le.Task] {
			paths = append(paths, le.Task)
			seen[le.Task] = true
			continue
		}
		rep.Problems = append(rep.Problems, Problem{Task: p, Severity: SeverityError, Message: err.Error()})
	}
	sort.Strings(paths)
	if len(paths) == 0 && len(rep.Problems) == 0 {
		rep.Problems = append(rep.Problems, Problem{Task: p, Severity: SeverityError, Message: "no task found: expected a task folder (with main.js), a .zip, or a folder of tasks"})
	}
	for _, tp := range paths {
		rep.Tasks = append(rep.Tasks, tp)
		rep.Problems = append(rep.Problems, pathTask(ctx, eng, tp)...)
	}
	return rep
}

func pathTask(ctx context.Context, eng *engine.Engine, p string) []Problem {
	name, files, err := taskfmt.ReadFiles(p)
	if err != nil {
		pr := Problem{Task: p, Severity: SeverityError, Message: err.Error()}
		var le *taskfmt.Error
		if errors.As(err, &le) {
			pr.File, pr.Message = le.File, le.Message
		}
		return []Problem{pr}
	}
	return Files(ctx, eng, p, name, files)
}

var slug = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Files validates a task given as its files (see taskfmt.FromFiles). label
// names the task in problems; name is its default name.
func Files(ctx context.Context, eng *engine.Engine, label, name string, files map[string][]byte) []Problem {
	c := &checker{task: label}
	c.metadata(files, name)
	c.code(ctx, eng, files)
	in := c.schema(files, taskfmt.InputSchemaFile, "input")
	out := c.schema(files, taskfmt.OutputSchemaFile, "output")
	c.tests(files, in, out)
	return c.problems
}

type checker struct {
	task     string
	problems []Problem
}

func (c *checker) add(sev Severity, file string, line, col int, format string, args ...any) {
	c.problems = append(c.problems, Problem{Task: c.task, File: file, Line: line, Column: col, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) metadata(files map[string][]byte, defaultName string) {
	const f = taskfmt.MetadataFile
	raw, ok := files[f]
	if !ok {
		c.add(SeverityWarning, f, 0, 0, "missing: the task is named %q after its folder, with version %s", defaultName, taskfmt.DefaultVersion)
		return
	}
	var fields map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); json.Valid(t) && (len(t) == 0 || t[0] != '{') {
		c.add(SeverityError, f, 0, 0, "must be a JSON object")
		return
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		line, col, msg := taskfmt.JSONError(raw, err)
		c.add(SeverityError, f, line, col, "%s", msg)
		return
	}
	isString := func(key string) (string, bool) {
		v, ok := fields[key]
		if !ok || string(v) == "null" {
			return "", false
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			c.add(SeverityError, f, 0, 0, "field %q must be a string", key)
			return "", false
		}
		return s, true
	}
	if n, ok := isString("name"); ok {
		switch {
		case strings.TrimSpace(n) == "":
			c.add(SeverityError, f, 0, 0, `field "name" must not be empty`)
		case !slug.MatchString(n):
			c.add(SeverityWarning, f, 0, 0, "field \"name\" %q is not a slug (lowercase letters, digits, '.', '_' and '-'): it is harder to use in URLs and commands", n)
		}
	}
	isString("label")
	isString("description")
	if u, ok := isString("uuid"); ok {
		if _, err := uuid.Parse(strings.TrimSpace(u)); err != nil {
			c.add(SeverityError, f, 0, 0, "field \"uuid\" %q is not a UUID", u)
		}
	}
	if v, ok := fields["version"]; ok && string(v) != "null" {
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(v, &s) == nil:
			if strings.TrimSpace(s) == "" {
				c.add(SeverityError, f, 0, 0, `field "version" must not be empty`)
			}
		case json.Unmarshal(v, &n) == nil:
			c.add(SeverityWarning, f, 0, 0, `field "version" should be a string such as "1.0.0"`)
		default:
			c.add(SeverityError, f, 0, 0, `field "version" must be a string such as "1.0.0"`)
		}
	}
	if v, ok := fields["timeout"]; ok && string(v) != "null" {
		var secs float64
		if err := json.Unmarshal(v, &secs); err != nil || secs <= 0 {
			c.add(SeverityError, f, 0, 0, `field "timeout" must be a positive number of seconds, got %s`, v)
		}
	}
	if v, ok := fields["tags"]; ok && string(v) != "null" {
		var tags []string
		if err := json.Unmarshal(v, &tags); err != nil {
			c.add(SeverityError, f, 0, 0, `field "tags" must be a list of strings`)
		}
	}
	if v, ok := fields["author"]; ok && string(v) != "null" {
		var s string
		var o map[string]any
		if json.Unmarshal(v, &s) != nil && json.Unmarshal(v, &o) != nil {
			c.add(SeverityError, f, 0, 0, `field "author" must be a string`)
		}
	}
}

func (c *checker) code(ctx context.Context, eng *engine.Engine, files map[string][]byte) {
	const f = taskfmt.MainFile
	code, ok := files[f]
	if !ok {
		c.add(SeverityError, f, 0, 0, "missing: a task needs a main.js that yields its function")
		return
	}
	if _, err := jsform.Compile(f, string(code)); err != nil {
		var se *jsform.SyntaxError
		if errors.As(err, &se) {
			c.add(SeverityError, f, se.Line, se.Column, "SyntaxError: %s", se.Message)
			return
		}
		c.add(SeverityError, f, 0, 0, "%v", err)
		return
	}
	if eng == nil {
		return
	}
	// Run the top level (network off) to be sure the file yields a function.
	if err := eng.Check(ctx, engine.TaskSpec{Name: c.task, Code: string(code)}); err != nil {
		var ce *core.Error
		if errors.As(err, &ce) && ce.Kind == core.KindCompile {
			c.add(SeverityError, f, 0, 0, "%s", ce.Message)
			return
		}
		c.add(SeverityError, f, 0, 0, "running the top level of main.js failed: %v", err)
	}
}

func (c *checker) schema(files map[string][]byte, file, side string) *schema.Schema {
	raw, ok := files[file]
	if !ok {
		c.add(SeverityWarning, file, 0, 0, "missing: the task's %s is not validated", side)
		return nil
	}
	s, err := schema.Compile(file, raw)
	if err != nil {
		var ce *schema.CompileError
		if errors.As(err, &ce) {
			c.add(SeverityError, file, 0, 0, "not a valid JSON Schema: %v", ce.Err)
		} else {
			c.add(SeverityError, file, 0, 0, "%v", err)
		}
		return nil
	}
	return s
}

func (c *checker) tests(files map[string][]byte, in, out *schema.Schema) {
	var names []string
	for f := range files {
		if strings.HasPrefix(f, taskfmt.TestsDir+"/") && strings.HasSuffix(f, ".json") {
			names = append(names, f)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		c.add(SeverityWarning, taskfmt.TestsDir, 0, 0, "no tests: add tests/*.json files with input and expected_output or expected_error")
		return
	}
	for _, f := range names {
		tc := taskfmt.ParseTest(f, files[f])
		if tc.Error != "" {
			for _, msg := range strings.Split(tc.Error, "; ") {
				c.add(SeverityError, f, 0, 0, "%s", msg)
			}
			continue
		}
		if in != nil && !tc.ExpectsError() {
			if err := in.Validate(tc.Input); err != nil {
				c.add(SeverityError, f, 0, 0, "input does not match %s: %v (a test of invalid input should expect InputValidationError)", taskfmt.InputSchemaFile, err)
			}
		}
		if out != nil && tc.ExpectedOutput != nil {
			if err := out.Validate(tc.ExpectedOutput); err != nil {
				c.add(SeverityError, f, 0, 0, "expected_output does not match %s: %v", taskfmt.OutputSchemaFile, err)
			}
		}
	}
}

// Write prints one line per problem, then "valid" or "invalid" with the
// counts, such as "2 tasks: 1 error, 3 warnings".
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	verdict := "valid"
	if !r.OK() {
		verdict = "invalid"
	}
	fmt.Fprintf(&b, "%s: %s, %s, %s\n", verdict, plural(len(r.Tasks), "task"), plural(r.Errors(), "error"), plural(r.Warnings(), "warning"))
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
