package apitypes

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// TaskRef names a task by its numeric id, its uuid or its name. In JSON it
// is a number or a string; it is always sent as a string.
type TaskRef string

// TaskRefID is the reference to the task with numeric id id.
func TaskRefID(id int64) TaskRef { return TaskRef(strconv.FormatInt(id, 10)) }

// ID returns the numeric id when the reference is one.
func (r TaskRef) ID() (int64, bool) {
	n, err := strconv.ParseInt(string(r), 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// UnmarshalJSON accepts a JSON number or string.
func (r *TaskRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*r = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = TaskRef(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return core.Errorf(core.KindInvalidArgument, "task_id must be a task's id, uuid or name")
	}
	id, err := n.Int64()
	if err != nil || id <= 0 {
		return core.Errorf(core.KindInvalidArgument, "task_id %s is not a valid task id", n)
	}
	*r = TaskRefID(id)
	return nil
}

// CreateTaskRequest is the JSON body of POST /tasks: the task folder's files
// (SPEC §2.1). A task can also be uploaded as a zip of its folder.
type CreateTaskRequest struct {
	Name         string            `json:"name,omitempty" doc:"Slug; defaults to metadata.name."`
	Metadata     json.RawMessage   `json:"metadata,omitempty" doc:"metadata.json (an object): name, label, uuid, version, description, timeout, tags, author; unknown fields are kept."`
	Code         string            `json:"code" doc:"main.js: the task function."`
	InputSchema  json.RawMessage   `json:"input_schema,omitempty" doc:"input.schema.json; omitted = no input validation."`
	OutputSchema json.RawMessage   `json:"output_schema,omitempty" doc:"output.schema.json; omitted = no output validation."`
	Tests        []json.RawMessage `json:"tests,omitempty" doc:"Test cases, each the content of a tests/*.json file (SPEC 2.5); an optional \"file\" member names it."`
	Enabled      *bool             `json:"enabled,omitempty" doc:"Default true."`
}

// Validate checks what can be checked without the runtime.
func (r CreateTaskRequest) Validate() error {
	if strings.TrimSpace(r.Code) == "" {
		return invalid("code", "code (main.js) is required")
	}
	if err := checkObject("metadata", r.Metadata); err != nil {
		return err
	}
	if err := checkObject("input_schema", r.InputSchema); err != nil {
		return err
	}
	if err := checkObject("output_schema", r.OutputSchema); err != nil {
		return err
	}
	for i, t := range r.Tests {
		if err := checkObject("tests["+strconv.Itoa(i)+"]", t); err != nil {
			return err
		}
	}
	return nil
}

// UpdateTaskRequest is the body of PATCH /tasks/{id}. Absent fields are
// unchanged. Changing the code, schemas, metadata or tests makes a new
// version; a schema set to null is removed.
type UpdateTaskRequest struct {
	Label        *string           `json:"label,omitempty"`
	Description  *string           `json:"description,omitempty"`
	Enabled      *bool             `json:"enabled,omitempty"`
	Metadata     json.RawMessage   `json:"metadata,omitempty"`
	Code         *string           `json:"code,omitempty"`
	InputSchema  json.RawMessage   `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage   `json:"output_schema,omitempty"`
	Tests        []json.RawMessage `json:"tests,omitempty" doc:"Replaces every test case."`
}

// ChangesContent reports whether the update makes a new version.
func (r UpdateTaskRequest) ChangesContent() bool {
	return r.Code != nil || r.Metadata != nil || r.InputSchema != nil || r.OutputSchema != nil || r.Tests != nil
}

// Validate checks the shape of the update.
func (r UpdateTaskRequest) Validate() error {
	if r.Code != nil && strings.TrimSpace(*r.Code) == "" {
		return invalid("code", "code (main.js) must not be empty")
	}
	if err := checkObject("metadata", r.Metadata); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    json.RawMessage
	}{{"input_schema", r.InputSchema}, {"output_schema", r.OutputSchema}} {
		if isNull(f.v) {
			continue
		}
		if err := checkObject(f.name, f.v); err != nil {
			return err
		}
	}
	for i, t := range r.Tests {
		if err := checkObject("tests["+strconv.Itoa(i)+"]", t); err != nil {
			return err
		}
	}
	return nil
}

// ExecuteRequest is the body of POST /tasks/{id}/execute.
type ExecuteRequest struct {
	Input              json.RawMessage     `json:"input,omitempty" doc:"The task's input; null when omitted."`
	Priority           string              `json:"priority,omitempty" enum:"low,normal,high,urgent,critical" doc:"Priority of the job an execute queues (async, or with output destinations); default urgent, since an execute asks to run now (critical = urgent). Jobs created with POST /jobs default to normal."`
	Async              bool                `json:"async,omitempty" doc:"Queue a job and answer 202 with it instead of waiting for the execution."`
	TimeoutSeconds     *int                `json:"timeout_seconds,omitempty" doc:"Per-execution timeout; default the task's or the server's."`
	OutputDestinations []OutputDestination `json:"output_destinations,omitempty"`
}

// Validate checks the body.
func (r ExecuteRequest) Validate() error {
	if _, err := parsePriority(r.Priority); err != nil {
		return err
	}
	if err := checkNonNegative("timeout_seconds", r.TimeoutSeconds); err != nil {
		return err
	}
	return checkDestinations(r.OutputDestinations)
}

// ParsedPriority is the requested priority (normal when none).
func (r ExecuteRequest) ParsedPriority() (core.Priority, error) { return parsePriority(r.Priority) }

// CreateJobRequest is the body of POST /jobs.
type CreateJobRequest struct {
	TaskID             TaskRef             `json:"task_id" doc:"The task's id, uuid or name."`
	Input              json.RawMessage     `json:"input,omitempty"`
	Priority           string              `json:"priority,omitempty" enum:"low,normal,high,urgent,critical" doc:"Default normal (critical = urgent)."`
	ProcessAt          *time.Time          `json:"process_at,omitempty" doc:"Do not run before this time (RFC 3339); default now."`
	MaxRetries         *int                `json:"max_retries,omitempty" doc:"Default 3."`
	RetryDelaySeconds  *int                `json:"retry_delay_seconds,omitempty" doc:"Base of the exponential backoff; default 60."`
	TimeoutSeconds     *int                `json:"timeout_seconds,omitempty"`
	IdempotencyKey     string              `json:"idempotency_key,omitempty" doc:"A second job with the same key returns the first."`
	OutputDestinations []OutputDestination `json:"output_destinations,omitempty"`
	Metadata           map[string]any      `json:"metadata,omitempty"`
}

// Validate checks the body.
func (r CreateJobRequest) Validate() error {
	if strings.TrimSpace(string(r.TaskID)) == "" {
		return invalid("task_id", "task_id is required")
	}
	if _, err := parsePriority(r.Priority); err != nil {
		return err
	}
	for name, v := range map[string]*int{"max_retries": r.MaxRetries, "retry_delay_seconds": r.RetryDelaySeconds, "timeout_seconds": r.TimeoutSeconds} {
		if err := checkNonNegative(name, v); err != nil {
			return err
		}
	}
	return checkDestinations(r.OutputDestinations)
}

// ParsedPriority is the requested priority (normal when none).
func (r CreateJobRequest) ParsedPriority() (core.Priority, error) { return parsePriority(r.Priority) }

// CreateScheduleRequest is the body of POST /schedules.
type CreateScheduleRequest struct {
	TaskID             TaskRef             `json:"task_id" doc:"The task's id, uuid or name."`
	Name               string              `json:"name,omitempty" doc:"Default: the task's name and the expression."`
	CronExpression     string              `json:"cron_expression" doc:"5 fields, 6 fields (seconds first) or a descriptor such as @hourly or @every 5m."`
	Timezone           string              `json:"timezone,omitempty" doc:"IANA time zone; default UTC."`
	Input              json.RawMessage     `json:"input,omitempty"`
	Enabled            *bool               `json:"enabled,omitempty" doc:"Default true."`
	MaxExecutions      *int                `json:"max_executions,omitempty" doc:"Stop after this many jobs; omitted or 0 for no limit."`
	OutputDestinations []OutputDestination `json:"output_destinations,omitempty"`
}

// Validate checks the body (the expression and time zone are checked by
// the scheduler).
func (r CreateScheduleRequest) Validate() error {
	if strings.TrimSpace(string(r.TaskID)) == "" {
		return invalid("task_id", "task_id is required")
	}
	if strings.TrimSpace(r.CronExpression) == "" {
		return invalid("cron_expression", "cron_expression is required")
	}
	if err := checkNonNegative("max_executions", r.MaxExecutions); err != nil {
		return err
	}
	return checkDestinations(r.OutputDestinations)
}

// UpdateScheduleRequest is the body of PATCH /schedules/{id}. Absent fields
// are unchanged; max_executions 0 removes the limit; output_destinations []
// removes them all.
type UpdateScheduleRequest struct {
	TaskID             *TaskRef             `json:"task_id,omitempty"`
	Name               *string              `json:"name,omitempty"`
	CronExpression     *string              `json:"cron_expression,omitempty"`
	Timezone           *string              `json:"timezone,omitempty"`
	Input              json.RawMessage      `json:"input,omitempty"`
	Enabled            *bool                `json:"enabled,omitempty"`
	MaxExecutions      *int                 `json:"max_executions,omitempty"`
	OutputDestinations *[]OutputDestination `json:"output_destinations,omitempty"`
}

// Validate checks the body.
func (r UpdateScheduleRequest) Validate() error {
	if r.TaskID != nil && strings.TrimSpace(string(*r.TaskID)) == "" {
		return invalid("task_id", "task_id must not be empty")
	}
	if r.CronExpression != nil && strings.TrimSpace(*r.CronExpression) == "" {
		return invalid("cron_expression", "cron_expression must not be empty")
	}
	if err := checkNonNegative("max_executions", r.MaxExecutions); err != nil {
		return err
	}
	if r.OutputDestinations != nil {
		return checkDestinations(*r.OutputDestinations)
	}
	return nil
}

// TestTaskRequest is the optional body of POST /tasks/{id}/test. Without
// tests, the task's stored tests run.
type TestTaskRequest struct {
	Tests []json.RawMessage `json:"tests,omitempty" doc:"Test cases to run instead of the stored ones (SPEC 2.5)."`
}

// ValidateTaskRequest is the optional body of POST /tasks/{id}/validate.
type ValidateTaskRequest struct {
	Input json.RawMessage `json:"input,omitempty" doc:"When given, also checked against the task's input schema."`
}

func invalid(field, msg string) error {
	return core.NewError(core.KindInvalidArgument, msg).WithDetail("field", field)
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// checkObject accepts an absent value or a JSON object.
func checkObject(field string, v json.RawMessage) error {
	if len(v) == 0 {
		return nil
	}
	t := bytes.TrimSpace(v)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return invalid(field, field+" must be a JSON object")
	}
	return nil
}

func checkNonNegative(field string, v *int) error {
	if v != nil && *v < 0 {
		return invalid(field, field+" must not be negative")
	}
	return nil
}

func checkDestinations(ds []OutputDestination) error {
	for i, d := range ds {
		switch d.Type {
		case core.DestinationFilesystem, core.DestinationWebhook:
		default:
			return invalid("output_destinations["+strconv.Itoa(i)+"].type",
				"output_destinations["+strconv.Itoa(i)+"].type must be filesystem or webhook")
		}
	}
	return nil
}

func parsePriority(s string) (core.Priority, error) {
	p, err := core.ParsePriority(s)
	if err != nil {
		var e *core.Error
		if errors.As(err, &e) {
			return 0, e.WithDetail("field", "priority")
		}
		return 0, err
	}
	return p, nil
}
