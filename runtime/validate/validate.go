// Package validate checks tasks for `ratchet validate` and the API's
// validate endpoint: metadata fields and their types, that each schema is a
// valid JSON Schema, that main.js compiles and yields a function, and the
// shape of every test file. It reports every problem found, not only the
// first, each naming its file; missing schemas and tests are warnings.
package validate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

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
	files = taskfmt.TrimBOMs(files)
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

// metadata reports the problems the loader rejects metadata.json for (the
// rules are taskfmt's, shared with the loader), then warnings.
func (c *checker) metadata(files map[string][]byte, defaultName string) {
	const f = taskfmt.MetadataFile
	raw, ok := files[f]
	if !ok {
		c.add(SeverityWarning, f, 0, 0, "missing: the task is named %q after its folder, with version %s", defaultName, taskfmt.DefaultVersion)
		c.defaultName(defaultName)
		return
	}
	meta, errs := taskfmt.CheckMetadata(raw)
	for _, e := range errs {
		c.add(SeverityError, f, e.Line, e.Column, "%s", e.Message)
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return
	}
	if _, given := fields["name"]; !given || string(fields["name"]) == "null" {
		c.defaultName(defaultName)
	}
	if meta.Name != "" && taskfmt.CheckName(meta.Name) == nil && !slug.MatchString(meta.Name) {
		c.add(SeverityWarning, f, 0, 0, "field \"name\" %q is not a slug (lowercase letters, digits, '.', '_' and '-'): it is harder to use in URLs and commands", meta.Name)
	}
	if v, ok := fields["version"]; ok && len(v) > 0 && v[0] != '"' && v[0] != 'n' {
		var n json.Number
		if json.Unmarshal(v, &n) == nil {
			c.add(SeverityWarning, f, 0, 0, `field "version" should be a string such as "1.0.0"`)
		}
	}
}

// defaultName reports a folder name the loader cannot use as the task name.
func (c *checker) defaultName(name string) {
	if err := taskfmt.CheckName(strings.TrimSpace(name)); err != nil {
		c.add(SeverityError, taskfmt.MetadataFile, 0, 0, "no name in metadata.json and the default %q cannot be used: %v", name, err)
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
		if errors.Is(err, engine.ErrTopLevelNeedsNetwork) {
			// run-once runs such a task with the network on: not an error.
			c.add(SeverityWarning, f, 0, 0, "%v; it is not checked further", err)
			return
		}
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
	s, err := taskfmt.CompileSchema(file, raw)
	if err != nil {
		c.add(SeverityError, file, err.Line, err.Column, "%s", err.Message)
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
		if tc.ErrorLine > 0 {
			c.add(SeverityError, f, tc.ErrorLine, tc.ErrorColumn, "%s", strings.TrimPrefix(tc.Error, fmt.Sprintf("%d:%d: ", tc.ErrorLine, tc.ErrorColumn)))
			continue
		}
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
