package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/dispatcher"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/jsondiff"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
	"github.com/ratchet-go/ratchet/runtime/testrunner"
	"github.com/ratchet-go/ratchet/runtime/validate"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// Tasks are the task operations.
type Tasks struct{ s *Service }

var (
	engineOnce sync.Once
	sharedEng  *engine.Engine
	engineErr  error
)

// engine is the in-process engine used to compile (never run) tasks for
// validation.
func (t *Tasks) engine() (*engine.Engine, error) {
	if t.s.d.Engine != nil {
		return t.s.d.Engine, nil
	}
	engineOnce.Do(func() { sharedEng, engineErr = engine.New(engine.Config{}, nil) })
	return sharedEng, engineErr
}

// List returns one page of tasks (see sqlstore.TaskRepo.List for fields).
func (t *Tasks) List(ctx context.Context, q core.ListQuery) (core.Page[core.Task], error) {
	if err := q.Normalize(); err != nil {
		return core.Page[core.Task]{}, err
	}
	return t.s.d.Store.Tasks().List(ctx, q)
}

// Get returns a task by id, uuid or name.
func (t *Tasks) Get(ctx context.Context, ref string) (core.Task, error) {
	return t.resolve(ctx, ref)
}

func (t *Tasks) resolve(ctx context.Context, ref string) (core.Task, error) {
	return t.resolveParam(ctx, "id", ref)
}

// resolveParam finds a task by the id, uuid or name a client gave as
// param.
func (t *Tasks) resolveParam(ctx context.Context, param, ref string) (core.Task, error) {
	_, _, key, err := parseRef("task", param, ref)
	if err != nil {
		return core.Task{}, err
	}
	return t.s.d.Store.Tasks().GetByRef(ctx, key)
}

// Versions lists a task's content versions, newest first.
func (t *Tasks) Versions(ctx context.Context, ref string) ([]core.TaskVersion, error) {
	task, err := t.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	return t.s.d.Store.Tasks().Versions(ctx, task.ID)
}

// Create stores an uploaded task through the registry.
func (t *Tasks) Create(ctx context.Context, up TaskUpload) (core.Task, error) {
	if t.s.d.Registry == nil {
		return core.Task{}, unavailable("task upload (the registry)")
	}
	if len(up.Files) == 0 && len(up.Zip) == 0 {
		return core.Task{}, core.Errorf(core.KindInvalidArgument, "a task upload needs its files (main.js at least) or a zip").WithDetail("field", "files")
	}
	return t.s.d.Registry.CreateTask(ctx, up)
}

// TaskPatch changes a task (PATCH /tasks/{id}): nil fields stay; Upload,
// when set, replaces the content (a new version).
type TaskPatch struct {
	Label       *string
	Description *string
	Enabled     *bool
	Tags        *[]string
	Upload      *TaskUpload
}

// Update applies a patch.
func (t *Tasks) Update(ctx context.Context, ref string, p TaskPatch) (core.Task, error) {
	task, err := t.resolve(ctx, ref)
	if err != nil {
		return core.Task{}, err
	}
	if p.Upload != nil {
		if t.s.d.Registry == nil {
			return core.Task{}, unavailable("task upload (the registry)")
		}
		if p.Upload.Name == "" {
			p.Upload.Name = task.Name
		}
		if task, err = t.s.d.Registry.UpdateTask(ctx, task.ID, *p.Upload); err != nil {
			return core.Task{}, err
		}
	}
	if p.Label == nil && p.Description == nil && p.Enabled == nil && p.Tags == nil {
		return task, nil
	}
	if p.Label != nil {
		task.Label = *p.Label
	}
	if p.Description != nil {
		task.Description = *p.Description
	}
	if p.Enabled != nil {
		task.Enabled = *p.Enabled
	}
	if p.Tags != nil {
		task.Tags = *p.Tags
	}
	return t.s.d.Store.Tasks().Update(ctx, task)
}

// Enable makes a task accept jobs again.
func (t *Tasks) Enable(ctx context.Context, ref string) (core.Task, error) {
	on := true
	return t.Update(ctx, ref, TaskPatch{Enabled: &on})
}

// Disable stops a task from accepting jobs; queued jobs fail when claimed.
func (t *Tasks) Disable(ctx context.Context, ref string) (core.Task, error) {
	off := false
	return t.Update(ctx, ref, TaskPatch{Enabled: &off})
}

// Delete removes a task with its versions, schedules and finished jobs
// (with their executions and deliveries); while it has unfinished jobs
// (queued, processing, retrying) it is a ConflictError.
func (t *Tasks) Delete(ctx context.Context, ref string) error {
	task, err := t.resolve(ctx, ref)
	if err != nil {
		return err
	}
	if t.s.d.Registry != nil {
		return t.s.d.Registry.DeleteTask(ctx, task.ID)
	}
	return t.s.d.Store.Tasks().Delete(ctx, task.ID)
}

// ExecuteTask is a request to run a task (POST /tasks/{id}/execute).
type ExecuteTask struct {
	Input json.RawMessage
	// Priority of the job when one is queued; default urgent.
	Priority *core.Priority
	// Async queues a job and returns it at once.
	Async bool
	// TimeoutSeconds bounds the execution; 0 means the task's and the
	// server's limits only.
	TimeoutSeconds int
	// OutputDestinations receive the output; a synchronous execute with
	// destinations runs as an urgent job and waits for it.
	OutputDestinations []core.OutputDestination
	IdempotencyKey     string
}

// ExecuteResult is what an execute answers: the execution (synchronous)
// and the job when one was queued.
type ExecuteResult struct {
	Execution *core.Execution `json:"execution,omitempty"`
	Job       *core.Job       `json:"job,omitempty"`
}

// Execute runs a task. Async: an urgent job is queued and returned.
// Otherwise the task runs now on the next free worker and the finished
// execution is returned; when the task fails, the execution is returned
// too, with an error of the task's kind (SPEC §2.4 maps it to a status)
// carrying details.execution_id.
func (t *Tasks) Execute(ctx context.Context, ref string, req ExecuteTask) (ExecuteResult, error) {
	if req.TimeoutSeconds < 0 || req.TimeoutSeconds > 86400 {
		return ExecuteResult{}, core.Errorf(core.KindInvalidArgument, "timeout_seconds must be between 0 and 86400, got %d", req.TimeoutSeconds).
			WithDetail("field", "timeout_seconds")
	}
	if req.Async || len(req.OutputDestinations) > 0 {
		return t.executeAsJob(ctx, ref, req)
	}
	task, err := t.resolve(ctx, ref)
	if err != nil {
		return ExecuteResult{}, err
	}
	if !task.Enabled {
		return ExecuteResult{}, core.Errorf(core.KindConflict, "task %q is disabled", task.Name).WithDetail("task_id", task.ID)
	}
	input, err := t.s.checkInput(req.Input)
	if err != nil {
		return ExecuteResult{}, err
	}
	timeout := time.Duration(req.TimeoutSeconds) * time.Second
	limit := timeout
	if limit <= 0 {
		limit = t.s.cfg.SyncTimeout
	}
	// The pool enforces the timeout; the context is a backstop that also
	// bounds the wait for a free worker.
	ctx, cancel := context.WithTimeout(ctx, limit+5*time.Second)
	defer cancel()
	res, err := t.s.d.Dispatcher.Execute(ctx, dispatcher.ExecuteRequest{Task: task, Input: input, Timeout: timeout})
	if err != nil {
		return ExecuteResult{}, err
	}
	exec := res.Execution
	out := ExecuteResult{Execution: &exec}
	if res.Err != nil {
		return out, executionError(res.Err, exec.ID)
	}
	return out, nil
}

// executionError is the error a failed synchronous execution answers with.
func executionError(fail *core.Error, execID int64) error {
	e := &core.Error{Kind: fail.Kind, Message: fail.Message, Status: fail.Status}
	for k, v := range fail.Details {
		e = e.WithDetail(k, v)
	}
	return e.WithDetail("execution_id", execID)
}

func (t *Tasks) executeAsJob(ctx context.Context, ref string, req ExecuteTask) (ExecuteResult, error) {
	prio := core.PriorityUrgent
	if req.Priority != nil {
		prio = *req.Priority
	}
	job, _, err := t.s.jobs.Create(ctx, CreateJob{
		TaskRef: ref, Input: req.Input, Priority: &prio, TimeoutSeconds: req.TimeoutSeconds,
		OutputDestinations: req.OutputDestinations, IdempotencyKey: req.IdempotencyKey,
	})
	if err != nil {
		return ExecuteResult{}, err
	}
	if req.Async {
		return ExecuteResult{Job: &job}, nil
	}
	limit := time.Duration(req.TimeoutSeconds) * time.Second
	if limit <= 0 {
		limit = t.s.cfg.SyncTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, limit+5*time.Second)
	defer cancel()
	done, err := t.s.jobs.Wait(wctx, job.ID)
	if err != nil {
		return ExecuteResult{Job: &job}, core.Errorf(core.KindTimeout, "job %d did not finish in time; it goes on in the background", job.ID).
			WithDetail("job_id", job.ID)
	}
	out := ExecuteResult{Job: &done}
	if done.ExecutionID != nil {
		if exec, err := t.s.d.Store.Executions().Get(ctx, *done.ExecutionID); err == nil {
			out.Execution = &exec
		}
	}
	if done.Status != core.JobCompleted {
		kind, _ := core.ParseErrorKind(done.ErrorType)
		if kind == "" {
			kind = core.KindCancelled
		}
		e := core.NewError(kind, done.ErrorMessage).WithDetail("job_id", done.ID)
		if done.ExecutionID != nil {
			e = e.WithDetail("execution_id", *done.ExecutionID)
		}
		return out, e
	}
	return out, nil
}

// TestReport is the outcome of a task's tests.
type TestReport struct {
	Task  string       `json:"task"`
	Tests []TestResult `json:"tests"`
}

// TestResult is the outcome of one test: the runner's result and the HTTP
// requests the task made (answered by the test's mocks).
type TestResult struct {
	testrunner.TestResult
	HTTPRequests []core.HTTPRequestLog `json:"http_requests,omitempty"`
}

// Test runs tests against a task's current version in a worker process,
// with their mocks and the network off, and reports each. Without tests
// the task's stored tests (tests/*.json) run; tests given (parsed with
// taskfmt.ParseTest) run instead of them, in file-name order.
func (t *Tasks) Test(ctx context.Context, ref string, tests ...taskfmt.TestCase) (TestReport, error) {
	task, err := t.resolve(ctx, ref)
	if err != nil {
		return TestReport{}, err
	}
	if t.s.d.Pool == nil {
		return TestReport{}, unavailable("the worker pool")
	}
	if len(tests) == 0 {
		v, err := t.s.d.Store.Tasks().CurrentVersion(ctx, task.ID)
		if err != nil {
			return TestReport{}, err
		}
		if tests, err = ParseStoredTests(v.Tests); err != nil {
			return TestReport{}, err
		}
	} else {
		tests = slices.Clone(tests)
		sort.SliceStable(tests, func(i, j int) bool { return tests[i].File < tests[j].File })
	}
	content, err := t.s.d.Dispatcher.Contents().Load(ctx, task)
	if err != nil {
		return TestReport{}, err
	}
	rep := TestReport{Task: task.Name, Tests: []TestResult{}}
	for i, tc := range tests {
		rep.Tests = append(rep.Tests, t.runTest(ctx, task, content, tc, i+1))
	}
	return rep, nil
}

func (t *Tasks) runTest(ctx context.Context, task core.Task, content worker.Task, tc taskfmt.TestCase, n int) TestResult {
	out := TestResult{TestResult: testrunner.TestResult{Task: task.Name, File: tc.File, Name: tc.Name}}
	res := &out.TestResult
	if tc.Error != "" {
		res.Message = "invalid test file: " + tc.Error
		return out
	}
	started := time.Now()
	r, err := t.s.d.Pool.Execute(ctx, worker.Request{
		Task:            content,
		Input:           tc.Input,
		Mocks:           tc.Mocks,
		NetworkDisabled: true,
		Context: worker.ExecContext{
			ExecutionID: fmt.Sprintf("test-%s-%d", task.Name, n),
			TaskID:      task.ID, TaskName: task.Name, TaskVersion: task.Version, Attempt: 1,
		},
	})
	res.Duration = time.Since(started)
	if err != nil {
		res.Message = "could not run: " + err.Error()
		return out
	}
	res.Logs = r.Logs
	out.HTTPRequests = r.HTTPRequests
	if r.Err != nil {
		res.Error = &testrunner.ErrorInfo{Type: string(r.Err.Kind), Message: r.Err.Message}
		res.Actual = describe(r.Err)
	} else {
		res.Actual = jsondiff.Pretty(r.Output)
	}
	if tc.ExpectsError() {
		res.Expected = fmt.Sprintf("an error matching %q", tc.ExpectedError)
		switch {
		case r.Err == nil:
			res.Message = fmt.Sprintf("expected an error matching %q, got output", tc.ExpectedError)
		case testrunner.ErrorMatches(tc.ExpectedError, r.Err):
			res.Passed = true
		default:
			res.Message = fmt.Sprintf("expected an error matching %q, got %s", tc.ExpectedError, describe(r.Err))
		}
		return out
	}
	res.Expected = jsondiff.Pretty(tc.ExpectedOutput)
	if r.Err != nil {
		res.Message = "expected output, got " + describe(r.Err)
		return out
	}
	if res.Diff = jsondiff.Diff(tc.ExpectedOutput, r.Output); len(res.Diff) == 0 {
		res.Passed = true
		return out
	}
	res.Message = "output differs from expected_output"
	return out
}

func describe(err *core.Error) string {
	if err.Message == "" {
		return string(err.Kind)
	}
	return string(err.Kind) + ": " + err.Message
}

// ParseStoredTests reads the tests a task version keeps (TaskVersion.Tests):
// a JSON array with one object per test file, holding the file's members
// and "file" naming it (a file that is no JSON object is kept as text under
// "_raw"), as lib/registry stores them; items of taskfmt.TestCase's
// encoding ({"file", "raw", ...}) and an object from file name to test file
// are read too. Items are returned in file-name order.
func ParseStoredTests(raw json.RawMessage) ([]taskfmt.TestCase, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var out []taskfmt.TestCase
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		var byFile map[string]json.RawMessage
		if err2 := json.Unmarshal(raw, &byFile); err2 != nil {
			return nil, core.Errorf(core.KindInternal, "stored tests are neither a list nor an object: %v", err)
		}
		for file, v := range byFile {
			out = append(out, taskfmt.ParseTest(file, v))
		}
	} else {
		for i, item := range items {
			var fields map[string]json.RawMessage
			if json.Unmarshal(item, &fields) != nil {
				out = append(out, taskfmt.ParseTest(fmt.Sprintf("tests/%03d.json", i+1), item))
				continue
			}
			file := fmt.Sprintf("tests/%03d.json", i+1)
			if f, ok := fields["file"]; ok {
				var s string
				if json.Unmarshal(f, &s) == nil && s != "" {
					file = s
				}
			}
			if r, ok := fields["raw"]; ok && len(r) > 0 && string(r) != "null" {
				out = append(out, taskfmt.ParseTest(file, r))
				continue
			}
			if c, ok := fields["_raw"]; ok {
				// A test file that is no JSON object, kept as text.
				var s string
				if json.Unmarshal(c, &s) == nil {
					out = append(out, taskfmt.ParseTest(file, []byte(s)))
					continue
				}
			}
			delete(fields, "file")
			b, err := json.Marshal(fields)
			if err != nil {
				b = item
			}
			out = append(out, taskfmt.ParseTest(file, b))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

// Validate checks a stored task's current version as `ratchet validate`
// checks a folder: metadata, code (compiled, not run), schemas and tests.
func (t *Tasks) Validate(ctx context.Context, ref string) (validate.Report, error) {
	task, err := t.resolve(ctx, ref)
	if err != nil {
		return validate.Report{}, err
	}
	v, err := t.s.d.Store.Tasks().CurrentVersion(ctx, task.ID)
	if err != nil {
		return validate.Report{}, err
	}
	files := map[string][]byte{taskfmt.MainFile: []byte(v.Code)}
	meta := v.Metadata
	if len(meta) == 0 {
		meta = task.Metadata
	}
	if len(meta) > 0 {
		files[taskfmt.MetadataFile] = meta
	}
	if len(v.InputSchema) > 0 {
		files[taskfmt.InputSchemaFile] = v.InputSchema
	}
	if len(v.OutputSchema) > 0 {
		files[taskfmt.OutputSchemaFile] = v.OutputSchema
	}
	tests, err := ParseStoredTests(v.Tests)
	if err != nil {
		return validate.Report{}, err
	}
	for _, tc := range tests {
		if len(tc.Raw) > 0 {
			files[tc.File] = tc.Raw
		}
	}
	return t.validateFiles(ctx, task.Name, files)
}

// ValidateUpload checks uploaded files without storing them.
func (t *Tasks) ValidateUpload(ctx context.Context, up TaskUpload) (validate.Report, error) {
	files := up.Files
	if len(up.Zip) > 0 {
		var err error
		if files, err = taskfmt.ReadZip(up.Zip); err != nil {
			return validate.Report{}, core.WrapError(core.KindInvalidArgument, err, "reading the zip")
		}
	}
	name := strings.TrimSpace(up.Name)
	if name == "" {
		name = "task"
	}
	return t.validateFiles(ctx, name, files)
}

func (t *Tasks) validateFiles(ctx context.Context, name string, files map[string][]byte) (validate.Report, error) {
	eng, err := t.engine()
	if err != nil {
		return validate.Report{}, err
	}
	problems := validate.Files(ctx, eng, name, name, files)
	if problems == nil {
		problems = []validate.Problem{}
	}
	return validate.Report{Tasks: []string{name}, Problems: problems}, nil
}
