// Package testrunner runs a task's tests (SPEC §2.5): each tests/*.json in
// file-name order, with its mocks, the network off, and the expected output
// compared by deep JSON equality (numbers by value) or the expected error
// matched by type or message substring. A report can be written as text (one
// line per test, a diff under each failure, and the last line exactly
// "N passed, M failed"), JSON or JUnit XML.
package testrunner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/jsondiff"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
)

// TestResult is the outcome of one test case.
type TestResult struct {
	Task     string        `json:"task"`
	File     string        `json:"file"`
	Name     string        `json:"name"`
	Passed   bool          `json:"passed"`
	Duration time.Duration `json:"-"`
	// Message says why the test failed.
	Message string `json:"message,omitempty"`
	// Expected and Actual describe both sides for display: pretty JSON, or
	// "error matching X" / "TypeError: message".
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Diff lists the differing paths when both sides are outputs.
	Diff []string `json:"diff,omitempty"`
	// Error is the task's error when it failed.
	Error *ErrorInfo `json:"error,omitempty"`
	// Logs are the task's console lines during the test.
	Logs []core.LogEntry `json:"logs,omitempty"`

	wantsError bool
}

// ErrorInfo is a task failure in a report.
type ErrorInfo struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// TaskReport groups the results of one task. LoadError is set when the task
// could not be loaded; it counts as one failure.
type TaskReport struct {
	Task      string       `json:"task"`
	Path      string       `json:"path,omitempty"`
	LoadError string       `json:"load_error,omitempty"`
	Tests     []TestResult `json:"tests"`
}

// Report is the outcome of a run.
type Report struct {
	Tasks    []TaskReport  `json:"tasks"`
	Passed   int           `json:"passed"`
	Failed   int           `json:"failed"`
	Duration time.Duration `json:"-"`
}

// OK reports whether every test passed and every task loaded.
func (r Report) OK() bool { return r.Failed == 0 }

// Run runs the tests of every task, in order.
func Run(ctx context.Context, eng *engine.Engine, tasks []*taskfmt.Task) Report {
	started := time.Now()
	var rep Report
	for _, t := range tasks {
		tr := RunTask(ctx, eng, t)
		rep.add(tr)
	}
	rep.Duration = time.Since(started)
	return rep
}

// RunPath loads p (a task, or a folder of tasks) and runs every test. Tasks
// that fail to load are reported as failures.
func RunPath(ctx context.Context, eng *engine.Engine, p string) Report {
	started := time.Now()
	tasks, errs := taskfmt.Discover(p)
	rep := Run(ctx, eng, tasks)
	for _, err := range errs {
		name := p
		var le *taskfmt.Error
		if errors.As(err, &le) && le.Task != "" {
			name = le.Task
		}
		rep.add(TaskReport{Task: name, Path: name, LoadError: err.Error()})
	}
	rep.Duration = time.Since(started)
	return rep
}

func (r *Report) add(tr TaskReport) {
	r.Tasks = append(r.Tasks, tr)
	if tr.LoadError != "" {
		r.Failed++
	}
	for _, t := range tr.Tests {
		if t.Passed {
			r.Passed++
		} else {
			r.Failed++
		}
	}
}

// RunTask runs the tests of one task, in file-name order. A task whose
// main.js fails when its top level runs (it throws, runs too long, or yields
// no function) did not load: that is reported as one failure, even when the
// task has no tests, and its tests are not run.
func RunTask(ctx context.Context, eng *engine.Engine, t *taskfmt.Task) TaskReport {
	tr := TaskReport{Task: t.Name, Path: t.Dir}
	spec := engine.SpecOf(t)
	if err := checkTopLevel(ctx, eng, t, spec); err != nil {
		tr.LoadError = err.Error()
		return tr
	}
	for i, tc := range t.Tests {
		tr.Tests = append(tr.Tests, RunTest(ctx, eng, spec, tc, i+1))
	}
	return tr
}

// checkTopLevel runs main.js's top level as `validate` does. A top level
// that calls fetch is left to the tests, whose mocks may answer it.
func checkTopLevel(ctx context.Context, eng *engine.Engine, t *taskfmt.Task, spec engine.TaskSpec) error {
	err := eng.Check(ctx, spec)
	if err == nil || errors.Is(err, engine.ErrTopLevelNeedsNetwork) {
		return nil
	}
	where := t.Dir
	if where == "" {
		where = t.Name
	}
	msg := err.Error()
	var ce *core.Error
	if errors.As(err, &ce) && ce.Kind != core.KindCompile {
		msg = "running the top level of main.js failed: " + describeErr(ce)
	}
	return &taskfmt.Error{Task: where, File: taskfmt.MainFile, Message: msg, Err: err}
}

// RunTest runs one test case of the task spec; n numbers the test in the
// task (for the execution id the task sees).
func RunTest(ctx context.Context, eng *engine.Engine, spec engine.TaskSpec, tc taskfmt.TestCase, n int) TestResult {
	res := TestResult{Task: spec.Name, File: tc.File, Name: tc.Name}
	if tc.Error != "" {
		res.Message = "invalid test file: " + tc.Error
		return res
	}
	started := time.Now()
	r := eng.Execute(ctx, engine.Request{
		Task:            spec,
		Input:           tc.Input,
		Mocks:           tc.Mocks,
		NetworkDisabled: true,
		Context: engine.ExecContext{
			ExecutionID: fmt.Sprintf("test-%s-%d", spec.Name, n),
			TaskName:    spec.Name,
			TaskVersion: spec.Version,
			Attempt:     1,
		},
	})
	res.Duration = time.Since(started)
	res.Logs = r.Logs
	if r.Err != nil {
		res.Error = &ErrorInfo{Type: string(r.Err.Kind), Message: r.Err.Message}
		res.Actual = describeErr(r.Err)
	} else {
		res.Actual = jsondiff.Pretty(r.Output)
	}

	if tc.ExpectsError() {
		res.wantsError = true
		res.Expected = fmt.Sprintf("an error matching %q", tc.ExpectedError)
		switch {
		case r.Err == nil:
			res.Message = fmt.Sprintf("expected an error matching %q, got output", tc.ExpectedError)
		case ErrorMatches(tc.ExpectedError, r.Err):
			res.Passed = true
		default:
			res.Message = fmt.Sprintf("expected an error matching %q, got %s", tc.ExpectedError, describeErr(r.Err))
		}
		return res
	}
	res.Expected = jsondiff.Pretty(tc.ExpectedOutput)
	if r.Err != nil {
		res.Message = "expected output, got " + describeErr(r.Err)
		return res
	}
	res.Diff = jsondiff.Diff(tc.ExpectedOutput, r.Output)
	if len(res.Diff) == 0 {
		res.Passed = true
		return res
	}
	res.Message = "output differs from expected_output"
	return res
}

// ErrorMatches reports whether a task error matches a test's expected_error
// (SPEC §2.5): it equals the error type exactly, or it is a case-sensitive
// substring of the message. The type is not searched for substrings, so
// "Error" or "Data" does not match every DataError.
func ErrorMatches(expected string, err *core.Error) bool {
	if err == nil || expected == "" {
		return false
	}
	return expected == string(err.Kind) || strings.Contains(err.Message, expected)
}

func describeErr(err *core.Error) string {
	if err.Message == "" {
		return string(err.Kind)
	}
	return string(err.Kind) + ": " + err.Message
}
