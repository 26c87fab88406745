package rest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
	"github.com/ratchet-go/ratchet/lib/service"
	"github.com/ratchet-go/ratchet/runtime/schema"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
	"github.com/ratchet-go/ratchet/runtime/validate"
)

// zipTypes are the Content-Types of a zip upload.
var zipTypes = []string{"application/zip", "application/x-zip-compressed", "application/x-zip", "application/octet-stream"}

func isZipType(mt string) bool {
	for _, t := range zipTypes {
		if mt == t {
			return true
		}
	}
	return false
}

// createTask is POST /tasks: the task's files as JSON
// (apitypes.CreateTaskRequest), a zip of its folder (Content-Type
// application/zip, with ?name= when metadata.json names no task), or a
// multipart form whose file part is the zip (or whose parts are the
// folder's files, each named by its path: main.js, tests/basic.json).
// 201 with the task and its Location.
func (h *handlers) createTask(c echo.Context) error {
	req := c.Request()
	mt := mediaType(req)
	var (
		up      service.TaskUpload
		enabled *bool
		err     error
	)
	switch {
	case isJSONType(mt):
		var body apitypes.CreateTaskRequest
		if err := bindJSON(c, &body, false); err != nil {
			return err
		}
		if up, err = uploadFromRequest(body); err != nil {
			return err
		}
		enabled = body.Enabled
	case isZipType(mt):
		data, err := readBody(c)
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return core.Errorf(core.KindInvalidArgument, "the zip upload is empty").WithDetail("field", "body")
		}
		up = service.TaskUpload{Name: strings.TrimSpace(c.QueryParam("name")), Zip: data}
	case mt == echo.MIMEMultipartForm:
		if up, err = h.uploadFromMultipart(c); err != nil {
			return err
		}
	default:
		return unsupportedMediaType(req.Header.Get(echo.HeaderContentType),
			"JSON (application/json), a zip of the task folder (application/zip) or multipart/form-data")
	}
	ctx := req.Context()
	task, err := h.svc.Tasks().Create(ctx, up)
	if err != nil {
		return err
	}
	if enabled != nil && !*enabled {
		if task, err = h.svc.Tasks().Update(ctx, idRef(task.ID), service.TaskPatch{Enabled: enabled}); err != nil {
			return err
		}
	}
	return h.created(c, "tasks", task.ID, apitypes.FromTask(task))
}

// uploadFromRequest turns the JSON body of POST /tasks into the task's
// files.
func uploadFromRequest(r apitypes.CreateTaskRequest) (service.TaskUpload, error) {
	up := service.TaskUpload{Name: strings.TrimSpace(r.Name), Files: map[string][]byte{taskfmt.MainFile: []byte(r.Code)}}
	if len(r.Metadata) > 0 && !isNull(r.Metadata) {
		var meta struct {
			Name *string `json:"name"`
		}
		if err := json.Unmarshal(r.Metadata, &meta); err != nil {
			return up, core.Errorf(core.KindInvalidArgument, "metadata: %v", err).WithDetail("field", "metadata")
		}
		if meta.Name != nil && up.Name != "" && strings.TrimSpace(*meta.Name) != up.Name {
			return up, core.Errorf(core.KindInvalidArgument, "name %q and metadata.name %q differ: give one of them", up.Name, *meta.Name).
				WithDetail("field", "name")
		}
		up.Files[taskfmt.MetadataFile] = r.Metadata
	}
	if len(r.InputSchema) > 0 && !isNull(r.InputSchema) {
		up.Files[taskfmt.InputSchemaFile] = r.InputSchema
	}
	if len(r.OutputSchema) > 0 && !isNull(r.OutputSchema) {
		up.Files[taskfmt.OutputSchemaFile] = r.OutputSchema
	}
	tests, err := testFiles(r.Tests)
	if err != nil {
		return up, err
	}
	for name, data := range tests {
		up.Files[name] = data
	}
	return up, nil
}

// testFiles names test cases given in a body: by their "file" member
// (tests/ is added when missing), else tests/001.json, tests/002.json...
func testFiles(tests []json.RawMessage) (map[string][]byte, error) {
	out := make(map[string][]byte, len(tests))
	for i, t := range tests {
		name := fmt.Sprintf("%s/%03d.json", taskfmt.TestsDir, i+1)
		var named struct {
			File string `json:"file"`
		}
		if json.Unmarshal(t, &named) == nil && strings.TrimSpace(named.File) != "" {
			f := path.Clean("/" + strings.TrimSpace(named.File))[1:]
			f = strings.TrimPrefix(f, taskfmt.TestsDir+"/")
			if f == "" || strings.Contains(f, "/") {
				return nil, core.Errorf(core.KindInvalidArgument, "tests[%d].file %q must name a file in tests/", i, named.File).
					WithDetail("field", fmt.Sprintf("tests[%d].file", i))
			}
			if !strings.HasSuffix(f, ".json") {
				f += ".json"
			}
			name = taskfmt.TestsDir + "/" + f
		}
		if _, dup := out[name]; dup {
			return nil, core.Errorf(core.KindInvalidArgument, "two tests are named %s", name).
				WithDetail("field", fmt.Sprintf("tests[%d].file", i))
		}
		out[name] = t
	}
	return out, nil
}

// uploadFromMultipart reads a multipart task upload: one file part that is
// a zip (its file name, without .zip, is the default task name), or one
// part per task file named by its path in the folder. A "name" value
// names the task.
func (h *handlers) uploadFromMultipart(c echo.Context) (service.TaskUpload, error) {
	req := c.Request()
	if err := req.ParseMultipartForm(h.opts.MaxMultipartMemory); err != nil {
		if e, ok := middleware.AsBodyTooLarge(err); ok {
			return service.TaskUpload{}, e
		}
		return service.TaskUpload{}, core.WrapError(core.KindInvalidArgument, err, "reading the multipart form")
	}
	defer func() { _ = req.MultipartForm.RemoveAll() }()
	form := req.MultipartForm
	up := service.TaskUpload{Name: strings.TrimSpace(firstValue(form.Value["name"]))}
	var parts []*multipart.FileHeader
	var fields []string
	for field, fhs := range form.File {
		for _, fh := range fhs {
			parts = append(parts, fh)
			fields = append(fields, field)
		}
	}
	if len(parts) == 0 {
		return up, core.Errorf(core.KindInvalidArgument, "the multipart upload has no file: send the task's zip as the part \"file\"").
			WithDetail("field", "file")
	}
	read := func(fh *multipart.FileHeader) ([]byte, error) {
		f, err := fh.Open()
		if err != nil {
			return nil, core.WrapError(core.KindInvalidArgument, err, "reading the upload "+fh.Filename)
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, core.WrapError(core.KindInvalidArgument, err, "reading the upload "+fh.Filename)
		}
		return data, nil
	}
	if len(parts) == 1 {
		data, err := read(parts[0])
		if err != nil {
			return up, err
		}
		if isZip(data) {
			up.Zip = data
			if up.Name == "" {
				up.Name = strings.TrimSuffix(path.Base(parts[0].Filename), path.Ext(parts[0].Filename))
			}
			return up, nil
		}
	}
	up.Files = map[string][]byte{}
	for i, fh := range parts {
		name := fields[i]
		if !strings.Contains(name, ".") {
			name = fh.Filename
		}
		name = path.Clean("/" + name)[1:]
		if name == "" {
			return up, core.Errorf(core.KindInvalidArgument, "a file part has no name: name each part by its path in the task folder (main.js, tests/basic.json)").
				WithDetail("field", fields[i])
		}
		data, err := read(fh)
		if err != nil {
			return up, err
		}
		up.Files[name] = data
	}
	return up, nil
}

func firstValue(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// isZip reports whether data starts like a zip archive.
func isZip(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("PK")) {
		return false
	}
	_, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	return err == nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// getTask is GET /tasks/{id} (id, uuid or name).
func (h *handlers) getTask(c echo.Context) error {
	t, err := h.svc.Tasks().Get(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromTask(t))
}

// updateTask is PATCH /tasks/{id}: label, description and enabled change
// the task; code, schemas, metadata or tests make a new version from the
// current one with the given files replaced (a schema set to null is
// removed; tests replace every test).
func (h *handlers) updateTask(c echo.Context) error {
	var body apitypes.UpdateTaskRequest
	if err := bindJSON(c, &body, false); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ref := param(c, "id")
	task, err := h.svc.Tasks().Get(ctx, ref)
	if err != nil {
		return err
	}
	patch := service.TaskPatch{Label: body.Label, Description: body.Description, Enabled: body.Enabled}
	if body.ChangesContent() {
		up, err := h.patchedUpload(c, task, body)
		if err != nil {
			return err
		}
		patch.Upload = &up
	}
	task, err = h.svc.Tasks().Update(ctx, idRef(task.ID), patch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromTask(task))
}

// patchedUpload is the task's current files with the patch's applied.
func (h *handlers) patchedUpload(c echo.Context, task core.Task, p apitypes.UpdateTaskRequest) (service.TaskUpload, error) {
	versions, err := h.svc.Tasks().Versions(c.Request().Context(), idRef(task.ID))
	if err != nil {
		return service.TaskUpload{}, err
	}
	files := map[string][]byte{}
	if len(versions) > 0 {
		v := versions[0]
		files[taskfmt.MainFile] = []byte(v.Code)
		meta := v.Metadata
		if len(meta) == 0 {
			meta = task.Metadata
		}
		if len(meta) > 0 && !isNull(meta) {
			files[taskfmt.MetadataFile] = meta
		}
		if len(v.InputSchema) > 0 && !isNull(v.InputSchema) {
			files[taskfmt.InputSchemaFile] = v.InputSchema
		}
		if len(v.OutputSchema) > 0 && !isNull(v.OutputSchema) {
			files[taskfmt.OutputSchemaFile] = v.OutputSchema
		}
		tests, err := service.ParseStoredTests(v.Tests)
		if err != nil {
			return service.TaskUpload{}, err
		}
		for _, tc := range tests {
			if len(tc.Raw) > 0 {
				files[tc.File] = tc.Raw
			}
		}
	}
	if p.Code != nil {
		files[taskfmt.MainFile] = []byte(*p.Code)
	}
	if p.Metadata != nil {
		files[taskfmt.MetadataFile] = p.Metadata
	} else if meta, ok := files[taskfmt.MetadataFile]; ok {
		// The stored metadata.json is the last upload's; label and
		// description may have been patched since, and must not revert.
		merged, err := currentMetadata(meta, task)
		if err != nil {
			return service.TaskUpload{}, err
		}
		files[taskfmt.MetadataFile] = merged
	}
	for file, v := range map[string]json.RawMessage{taskfmt.InputSchemaFile: p.InputSchema, taskfmt.OutputSchemaFile: p.OutputSchema} {
		switch {
		case v == nil:
		case isNull(v):
			delete(files, file)
		default:
			files[file] = v
		}
	}
	if p.Tests != nil {
		for name := range files {
			if strings.HasPrefix(name, taskfmt.TestsDir+"/") {
				delete(files, name)
			}
		}
		tests, err := testFiles(p.Tests)
		if err != nil {
			return service.TaskUpload{}, err
		}
		for name, data := range tests {
			files[name] = data
		}
	}
	if _, ok := files[taskfmt.MainFile]; !ok {
		return service.TaskUpload{}, core.Errorf(core.KindConflict, "task %q has no stored code to change: send code", task.Name).
			WithDetail("field", "code")
	}
	return service.TaskUpload{Name: task.Name, Files: files}, nil
}

// deleteTask is DELETE /tasks/{id}: 204.
func (h *handlers) deleteTask(c echo.Context) error {
	if err := h.svc.Tasks().Delete(c.Request().Context(), param(c, "id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// executeTask is POST /tasks/{id}/execute. Synchronous: 200 with the
// completed execution, or the error envelope with the failure's status
// (SPEC §2.4) and details.execution_id. Async: 202 with the job and its
// Location.
func (h *handlers) executeTask(c echo.Context) error {
	var body apitypes.ExecuteRequest
	if err := bindJSON(c, &body, true); err != nil {
		return err
	}
	req := service.ExecuteTask{Input: body.Input, Async: body.Async, OutputDestinations: apitypes.ToDestinations(body.OutputDestinations)}
	if body.Priority != "" {
		p, err := body.ParsedPriority()
		if err != nil {
			return err
		}
		req.Priority = &p
	}
	if body.TimeoutSeconds != nil {
		req.TimeoutSeconds = *body.TimeoutSeconds
	}
	res, err := h.svc.Tasks().Execute(c.Request().Context(), param(c, "id"), req)
	if err != nil {
		if res.Execution != nil && (res.Execution.Status == core.ExecutionFailed || res.Execution.Status == core.ExecutionCancelled) {
			return executionFailure(*res.Execution, err)
		}
		return err
	}
	if body.Async {
		if res.Job == nil {
			return core.Errorf(core.KindInternal, "the service queued no job for an async execute")
		}
		c.Response().Header().Set(echo.HeaderLocation, h.location("jobs", res.Job.ID))
		return c.JSON(http.StatusAccepted, apitypes.FromJob(*res.Job))
	}
	if res.Execution == nil {
		return core.Errorf(core.KindInternal, "the service returned no execution for a synchronous execute")
	}
	return c.JSON(http.StatusOK, apitypes.FromExecution(*res.Execution))
}

// executionFailure is the error of a failed synchronous execution:
// apitypes.ExecutionError (the execution's type, message and §2.4 status,
// details.execution_id) with the service's details (job_id, the task's
// own error details) added.
func executionFailure(exec core.Execution, svcErr error) error {
	out := apitypes.ExecutionError(exec)
	var ce *core.Error
	if errors.As(svcErr, &ce) {
		for k, v := range ce.Details {
			if _, ok := out.Details[k]; !ok {
				out = out.WithDetail(k, v)
			}
		}
		if out.Status == 0 && ce.Kind == out.Kind {
			out.Status = ce.Status
		}
	}
	return out
}

// testTask is POST /tasks/{id}/test: the tests given in the body (named
// as uploads name them: by their "file", else tests/001.json, ...) or,
// without any, the task's stored tests, run in a worker with their mocks;
// 200 with the report whether or not they pass.
func (h *handlers) testTask(c echo.Context) error {
	var body apitypes.TestTaskRequest
	if err := bindJSON(c, &body, true); err != nil {
		return err
	}
	files, err := testFiles(body.Tests)
	if err != nil {
		return err
	}
	tests := make([]taskfmt.TestCase, 0, len(files))
	for name, data := range files {
		tests = append(tests, taskfmt.ParseTest(name, data))
	}
	rep, err := h.svc.Tasks().Test(c.Request().Context(), param(c, "id"), tests...)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, testReport(rep))
}

// testReport converts the service's report for the API.
func testReport(r service.TestReport) apitypes.TaskTestReport {
	out := apitypes.TaskTestReport{Task: r.Task, Tests: make([]apitypes.TaskTestResult, 0, len(r.Tests))}
	for _, t := range r.Tests {
		res := apitypes.TaskTestResult{
			File: t.File, Name: t.Name, Passed: t.Passed, DurationMS: float64(t.Duration.Microseconds()) / 1000,
			Message: t.Message, Expected: t.Expected, Actual: t.Actual, Diff: t.Diff,
			Logs: apitypes.FromLogEntries(t.Logs), HTTP: apitypes.FromHTTPRequests(t.HTTPRequests),
		}
		if res.Diff == nil {
			res.Diff = []string{}
		}
		if res.HTTP == nil {
			res.HTTP = []apitypes.HTTPRequest{}
		}
		if t.Error != nil {
			res.Error = &apitypes.TaskError{Type: t.Error.Type, Message: t.Error.Message}
		}
		out.Tests = append(out.Tests, res)
	}
	for _, t := range out.Tests {
		if t.Passed {
			out.Passed++
		} else {
			out.Failed++
		}
		out.DurationMS += t.DurationMS
	}
	out.OK = out.Failed == 0
	return out
}

// validateTask is POST /tasks/{id}/validate: the task's files checked as
// `ratchet validate` checks a folder, and the given input against the
// input schema; 200 with every problem.
func (h *handlers) validateTask(c echo.Context) error {
	var body apitypes.ValidateTaskRequest
	if err := bindJSON(c, &body, true); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ref := param(c, "id")
	task, err := h.svc.Tasks().Get(ctx, ref)
	if err != nil {
		return err
	}
	rep, err := h.svc.Tasks().Validate(ctx, idRef(task.ID))
	if err != nil {
		return err
	}
	problems := make([]apitypes.ValidationProblem, 0, len(rep.Problems))
	for _, p := range rep.Problems {
		problems = append(problems, apitypes.ValidationProblem{
			File: p.File, Line: p.Line, Column: p.Column, Severity: string(p.Severity), Message: p.Message,
		})
	}
	var inputValid *bool
	if body.Input != nil {
		ok, ps := checkInput(task, body.Input)
		inputValid = &ok
		problems = append(problems, ps...)
	}
	return c.JSON(http.StatusOK, apitypes.NewValidationReport(task.Name, problems, inputValid))
}

// checkInput validates input against the task's input schema; a task
// without one accepts any input.
func checkInput(task core.Task, input json.RawMessage) (bool, []apitypes.ValidationProblem) {
	if len(task.InputSchema) == 0 || isNull(task.InputSchema) {
		return true, nil
	}
	sch, err := schema.Compile(taskfmt.InputSchemaFile, task.InputSchema)
	if err != nil {
		return false, []apitypes.ValidationProblem{{
			File: taskfmt.InputSchemaFile, Severity: string(validate.SeverityError), Message: "the input schema does not compile: " + err.Error(),
		}}
	}
	err = sch.Validate(input)
	if err == nil {
		return true, nil
	}
	var ve *schema.ValidationError
	if !errors.As(err, &ve) {
		return false, []apitypes.ValidationProblem{{File: "input", Severity: string(validate.SeverityError), Message: err.Error()}}
	}
	out := make([]apitypes.ValidationProblem, 0, len(ve.Problems))
	for _, p := range ve.Problems {
		out = append(out, apitypes.ValidationProblem{File: "input", Severity: string(validate.SeverityError), Message: p.String()})
	}
	return false, out
}

// currentMetadata is a stored metadata.json with the task's current label
// and description written over the uploaded ones.
func currentMetadata(meta json.RawMessage, task core.Task) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(meta, &m); err != nil || m == nil {
		return meta, nil // not an object: the loader reports it as it is
	}
	for key, val := range map[string]string{"label": task.Label, "description": task.Description} {
		if val == "" {
			delete(m, key)
			continue
		}
		b, err := json.Marshal(val)
		if err != nil {
			return nil, err
		}
		m[key] = b
	}
	return json.Marshal(m)
}
