package sqlstore

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/ratchet-go/ratchet/core"
)

// The bun models below mirror the tables of the migrations one to one. They
// never leave this package: every repository method converts to and from
// core types.

type taskModel struct {
	bun.BaseModel `bun:"table:tasks"`

	ID           int64           `bun:"id,pk,autoincrement"`
	UUID         string          `bun:"uuid"`
	Name         string          `bun:"name"`
	Label        string          `bun:"label"`
	Version      string          `bun:"version"`
	Description  string          `bun:"description"`
	Tags         json.RawMessage `bun:"tags"`
	Author       string          `bun:"author"`
	TimeoutMS    int64           `bun:"timeout_ms"`
	Enabled      bool            `bun:"enabled"`
	InputSchema  json.RawMessage `bun:"input_schema"`
	OutputSchema json.RawMessage `bun:"output_schema"`
	Metadata     json.RawMessage `bun:"metadata"`
	Source       string          `bun:"source"`
	LoadError    string          `bun:"load_error"`
	Checksum     string          `bun:"checksum"`
	CreatedAt    time.Time       `bun:"created_at"`
	UpdatedAt    time.Time       `bun:"updated_at"`
}

type taskVersionModel struct {
	bun.BaseModel `bun:"table:task_versions"`

	ID           int64           `bun:"id,pk,autoincrement"`
	TaskID       int64           `bun:"task_id"`
	Version      string          `bun:"version"`
	Checksum     string          `bun:"checksum"`
	Code         string          `bun:"code"`
	InputSchema  json.RawMessage `bun:"input_schema"`
	OutputSchema json.RawMessage `bun:"output_schema"`
	Metadata     json.RawMessage `bun:"metadata"`
	Tests        json.RawMessage `bun:"tests"`
	CreatedAt    time.Time       `bun:"created_at"`
}

type jobModel struct {
	bun.BaseModel `bun:"table:jobs"`

	ID                 int64           `bun:"id,pk,autoincrement"`
	UUID               string          `bun:"uuid"`
	TaskID             int64           `bun:"task_id"`
	TaskName           string          `bun:"task_name"`
	Status             string          `bun:"status"`
	Priority           int             `bun:"priority"`
	Input              json.RawMessage `bun:"input"`
	Output             json.RawMessage `bun:"output"`
	ErrorType          string          `bun:"error_type"`
	ErrorMessage       string          `bun:"error_message"`
	Attempts           int             `bun:"attempts"`
	MaxRetries         int             `bun:"max_retries"`
	RetryDelaySeconds  int             `bun:"retry_delay_seconds"`
	TimeoutSeconds     int             `bun:"timeout_seconds"`
	ProcessAt          time.Time       `bun:"process_at"`
	ScheduleID         *int64          `bun:"schedule_id"`
	IdempotencyKey     *string         `bun:"idempotency_key"`
	ExecutionID        *int64          `bun:"execution_id"`
	OutputDestinations json.RawMessage `bun:"output_destinations"`
	Metadata           json.RawMessage `bun:"metadata"`
	LeaseOwner         string          `bun:"lease_owner"`
	LeaseExpiresAt     *time.Time      `bun:"lease_expires_at"`
	CreatedAt          time.Time       `bun:"created_at"`
	UpdatedAt          time.Time       `bun:"updated_at"`
	StartedAt          *time.Time      `bun:"started_at"`
	CompletedAt        *time.Time      `bun:"completed_at"`
}

type executionModel struct {
	bun.BaseModel `bun:"table:executions"`

	ID           int64           `bun:"id,pk,autoincrement"`
	UUID         string          `bun:"uuid"`
	TaskID       int64           `bun:"task_id"`
	TaskName     string          `bun:"task_name"`
	TaskVersion  string          `bun:"task_version"`
	JobID        *int64          `bun:"job_id"`
	Status       string          `bun:"status"`
	Input        json.RawMessage `bun:"input"`
	Output       json.RawMessage `bun:"output"`
	ErrorType    string          `bun:"error_type"`
	ErrorMessage string          `bun:"error_message"`
	ErrorDetails json.RawMessage `bun:"error_details"`
	Logs         json.RawMessage `bun:"logs"`
	HTTPRequests json.RawMessage `bun:"http_requests"`
	WorkerID     string          `bun:"worker_id"`
	Attempt      int             `bun:"attempt"`
	QueuedAt     time.Time       `bun:"queued_at"`
	StartedAt    *time.Time      `bun:"started_at"`
	CompletedAt  *time.Time      `bun:"completed_at"`
	DurationMS   *int64          `bun:"duration_ms"`
}

type scheduleModel struct {
	bun.BaseModel `bun:"table:schedules"`

	ID                 int64           `bun:"id,pk,autoincrement"`
	UUID               string          `bun:"uuid"`
	TaskID             int64           `bun:"task_id"`
	Name               string          `bun:"name"`
	CronExpression     string          `bun:"cron_expression"`
	Timezone           string          `bun:"timezone"`
	Input              json.RawMessage `bun:"input"`
	Enabled            bool            `bun:"enabled"`
	MaxExecutions      *int            `bun:"max_executions"`
	ExecutionCount     int             `bun:"execution_count"`
	NextRunAt          *time.Time      `bun:"next_run_at"`
	LastRunAt          *time.Time      `bun:"last_run_at"`
	OutputDestinations json.RawMessage `bun:"output_destinations"`
	CreatedAt          time.Time       `bun:"created_at"`
	UpdatedAt          time.Time       `bun:"updated_at"`
}

type deliveryModel struct {
	bun.BaseModel `bun:"table:delivery_results"`

	ID              int64     `bun:"id,pk,autoincrement"`
	JobID           int64     `bun:"job_id"`
	ExecutionID     *int64    `bun:"execution_id"`
	DestinationType string    `bun:"destination_type"`
	Destination     string    `bun:"destination"`
	Success         bool      `bun:"success"`
	Attempts        int       `bun:"attempts"`
	StatusCode      *int      `bun:"status_code"`
	ErrorMessage    string    `bun:"error_message"`
	DurationMS      int64     `bun:"duration_ms"`
	CreatedAt       time.Time `bun:"created_at"`
}

type nodeModel struct {
	bun.BaseModel `bun:"table:nodes"`

	Name            string    `bun:"name,pk"`
	Hostname        string    `bun:"hostname"`
	Version         string    `bun:"version"`
	StartedAt       time.Time `bun:"started_at"`
	LastHeartbeatAt time.Time `bun:"last_heartbeat_at"`
}

type workerModel struct {
	bun.BaseModel `bun:"table:workers"`

	ID                 string     `bun:"id,pk"`
	Node               string     `bun:"node"`
	PID                int        `bun:"pid"`
	Status             string     `bun:"status"`
	CurrentExecutionID *int64     `bun:"current_execution_id"`
	ExecutionsTotal    int64      `bun:"executions_total"`
	FailuresTotal      int64      `bun:"failures_total"`
	Restarts           int        `bun:"restarts"`
	MemoryBytes        int64      `bun:"memory_bytes"`
	StartedAt          time.Time  `bun:"started_at"`
	LastHeartbeatAt    *time.Time `bun:"last_heartbeat_at"`
}

type apiKeyModel struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID         int64      `bun:"id,pk,autoincrement"`
	Name       string     `bun:"name"`
	KeyHash    string     `bun:"key_hash"`
	Prefix     string     `bun:"prefix"`
	Role       string     `bun:"role"`
	CreatedAt  time.Time  `bun:"created_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

// newUUID returns a version 7 UUID: a millisecond timestamp then random
// bits. Being time-ordered, new ids land at the end of the uuid indexes
// instead of at random pages, which keeps inserts cheap.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	ms := uint64(time.Now().UnixMilli())
	b[0], b[1], b[2] = byte(ms>>40), byte(ms>>32), byte(ms>>24)
	b[3], b[4], b[5] = byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = (b[6] & 0x0f) | 0x70
	b[8] = (b[8] & 0x3f) | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// clean replaces NUL characters, which SQL text cannot carry, in free text
// that comes from tasks (error messages, worker output).
func clean(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// checkText rejects NUL characters in identifiers and user-given text.
func checkText(what string, vals ...string) error {
	for _, v := range vals {
		if strings.IndexByte(v, 0) >= 0 {
			return core.Errorf(core.KindInvalidArgument, "%s must not contain a NUL character", what)
		}
	}
	return nil
}

// checkJSON rejects documents that are not valid JSON, so that both
// databases store the same thing (PostgreSQL's json type would refuse them).
func checkJSON(what string, docs ...json.RawMessage) error {
	for _, d := range docs {
		if len(d) > 0 && !json.Valid(d) {
			return core.Errorf(core.KindInvalidArgument, "%s is not valid JSON", what)
		}
	}
	return nil
}

// rawJSON returns nil (SQL NULL) for an empty document.
func rawJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return b
}

// marshalJSON encodes v, with nil for empty slices and maps.
func marshalJSON[T any](v T, empty bool) (json.RawMessage, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, core.Errorf(core.KindInvalidArgument, "encoding %T: %w", v, err)
	}
	return b, nil
}

func unmarshalJSON[T any](b json.RawMessage, into *T, what string) error {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// truncTime drops what the database does not keep (below microseconds), so
// values round-trip exactly.
func truncTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func truncTimePtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := truncTime(*t)
	return &u
}

// --- tasks

func taskFromModel(m *taskModel) (core.Task, error) {
	t := core.Task{
		ID: m.ID, UUID: m.UUID, Name: m.Name, Label: m.Label, Version: m.Version,
		Description: m.Description, Author: m.Author,
		Timeout: time.Duration(m.TimeoutMS) * time.Millisecond, Enabled: m.Enabled,
		InputSchema: rawJSON(m.InputSchema), OutputSchema: rawJSON(m.OutputSchema),
		Metadata: rawJSON(m.Metadata), Source: m.Source, LoadError: m.LoadError,
		Checksum: m.Checksum, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
	}
	if err := unmarshalJSON(m.Tags, &t.Tags, "task tags"); err != nil {
		return core.Task{}, err
	}
	return t, nil
}

func taskToModel(t core.Task) (*taskModel, error) {
	if err := checkJSON("task schema or metadata", t.InputSchema, t.OutputSchema, t.Metadata); err != nil {
		return nil, err
	}
	tags, err := marshalJSON(t.Tags, len(t.Tags) == 0)
	if err != nil {
		return nil, err
	}
	return &taskModel{
		ID: t.ID, UUID: t.UUID, Name: t.Name, Label: t.Label, Version: t.Version,
		Description: t.Description, Tags: tags, Author: t.Author,
		TimeoutMS: t.Timeout.Milliseconds(), Enabled: t.Enabled,
		InputSchema: rawJSON(t.InputSchema), OutputSchema: rawJSON(t.OutputSchema),
		Metadata: rawJSON(t.Metadata), Source: t.Source, LoadError: t.LoadError,
		Checksum: t.Checksum, CreatedAt: truncTime(t.CreatedAt), UpdatedAt: truncTime(t.UpdatedAt),
	}, nil
}

func versionFromModel(m *taskVersionModel) core.TaskVersion {
	return core.TaskVersion{
		ID: m.ID, TaskID: m.TaskID, Version: m.Version, Checksum: m.Checksum, Code: m.Code,
		InputSchema: rawJSON(m.InputSchema), OutputSchema: rawJSON(m.OutputSchema),
		Metadata: rawJSON(m.Metadata), Tests: rawJSON(m.Tests), CreatedAt: m.CreatedAt.UTC(),
	}
}

// --- jobs

func jobFromModel(m *jobModel) (core.Job, error) {
	j := core.Job{
		ID: m.ID, UUID: m.UUID, TaskID: m.TaskID, TaskName: m.TaskName,
		Status: core.JobStatus(m.Status), Priority: core.Priority(m.Priority),
		Input: rawJSON(m.Input), Output: rawJSON(m.Output),
		ErrorType: m.ErrorType, ErrorMessage: m.ErrorMessage,
		Attempts: m.Attempts, MaxRetries: m.MaxRetries, RetryDelaySeconds: m.RetryDelaySeconds,
		TimeoutSeconds: m.TimeoutSeconds, ProcessAt: m.ProcessAt.UTC(),
		ScheduleID: m.ScheduleID, ExecutionID: m.ExecutionID,
		LeaseOwner: m.LeaseOwner, LeaseExpiresAt: utcPtr(m.LeaseExpiresAt),
		CreatedAt: m.CreatedAt.UTC(), StartedAt: utcPtr(m.StartedAt), CompletedAt: utcPtr(m.CompletedAt),
	}
	if m.IdempotencyKey != nil {
		j.IdempotencyKey = *m.IdempotencyKey
	}
	if err := unmarshalJSON(m.OutputDestinations, &j.OutputDestinations, "job output destinations"); err != nil {
		return core.Job{}, err
	}
	if err := unmarshalJSON(m.Metadata, &j.Metadata, "job metadata"); err != nil {
		return core.Job{}, err
	}
	return j, nil
}

func jobsFromModels(ms []jobModel) ([]core.Job, error) {
	out := make([]core.Job, len(ms))
	for i := range ms {
		j, err := jobFromModel(&ms[i])
		if err != nil {
			return nil, err
		}
		out[i] = j
	}
	return out, nil
}

func jobToModel(j core.Job) (*jobModel, error) {
	if err := checkJSON("job input or output", j.Input, j.Output); err != nil {
		return nil, err
	}
	dests, err := marshalJSON(j.OutputDestinations, len(j.OutputDestinations) == 0)
	if err != nil {
		return nil, err
	}
	meta, err := marshalJSON(j.Metadata, len(j.Metadata) == 0)
	if err != nil {
		return nil, err
	}
	m := &jobModel{
		ID: j.ID, UUID: j.UUID, TaskID: j.TaskID, TaskName: j.TaskName,
		Status: string(j.Status), Priority: int(j.Priority),
		Input: rawJSON(j.Input), Output: rawJSON(j.Output),
		ErrorType: j.ErrorType, ErrorMessage: j.ErrorMessage,
		Attempts: j.Attempts, MaxRetries: j.MaxRetries, RetryDelaySeconds: j.RetryDelaySeconds,
		TimeoutSeconds: j.TimeoutSeconds, ProcessAt: truncTime(j.ProcessAt),
		ScheduleID: j.ScheduleID, ExecutionID: j.ExecutionID,
		OutputDestinations: dests, Metadata: meta,
		LeaseOwner: j.LeaseOwner, LeaseExpiresAt: truncTimePtr(j.LeaseExpiresAt),
		CreatedAt: truncTime(j.CreatedAt), UpdatedAt: truncTime(j.CreatedAt),
		StartedAt: truncTimePtr(j.StartedAt), CompletedAt: truncTimePtr(j.CompletedAt),
	}
	if j.IdempotencyKey != "" {
		k := j.IdempotencyKey
		m.IdempotencyKey = &k
	}
	return m, nil
}

// --- executions

func executionFromModel(m *executionModel) (core.Execution, error) {
	e := core.Execution{
		ID: m.ID, UUID: m.UUID, TaskID: m.TaskID, TaskName: m.TaskName, TaskVersion: m.TaskVersion,
		JobID: m.JobID, Status: core.ExecutionStatus(m.Status),
		Input: rawJSON(m.Input), Output: rawJSON(m.Output),
		ErrorType: m.ErrorType, ErrorMessage: m.ErrorMessage, ErrorDetails: rawJSON(m.ErrorDetails),
		WorkerID: m.WorkerID, Attempt: m.Attempt, QueuedAt: m.QueuedAt.UTC(),
		StartedAt: utcPtr(m.StartedAt), CompletedAt: utcPtr(m.CompletedAt), DurationMS: m.DurationMS,
		Logs: []core.LogEntry{}, HTTPRequests: []core.HTTPRequestLog{},
	}
	if err := unmarshalJSON(m.Logs, &e.Logs, "execution logs"); err != nil {
		return core.Execution{}, err
	}
	if err := unmarshalJSON(m.HTTPRequests, &e.HTTPRequests, "execution HTTP requests"); err != nil {
		return core.Execution{}, err
	}
	return e, nil
}

func executionToModel(e core.Execution) (*executionModel, error) {
	if err := checkJSON("execution input, output or error details", e.Input, e.Output, e.ErrorDetails); err != nil {
		return nil, err
	}
	logs, err := marshalJSON(e.Logs, len(e.Logs) == 0)
	if err != nil {
		return nil, err
	}
	reqs, err := marshalJSON(e.HTTPRequests, len(e.HTTPRequests) == 0)
	if err != nil {
		return nil, err
	}
	return &executionModel{
		ID: e.ID, UUID: e.UUID, TaskID: e.TaskID, TaskName: e.TaskName, TaskVersion: e.TaskVersion,
		JobID: e.JobID, Status: string(e.Status),
		Input: rawJSON(e.Input), Output: rawJSON(e.Output),
		ErrorType: e.ErrorType, ErrorMessage: e.ErrorMessage, ErrorDetails: rawJSON(e.ErrorDetails),
		Logs: logs, HTTPRequests: reqs, WorkerID: e.WorkerID, Attempt: e.Attempt,
		QueuedAt: truncTime(e.QueuedAt), StartedAt: truncTimePtr(e.StartedAt),
		CompletedAt: truncTimePtr(e.CompletedAt), DurationMS: e.DurationMS,
	}, nil
}

// --- schedules

func scheduleFromModel(m *scheduleModel) (core.Schedule, error) {
	s := core.Schedule{
		ID: m.ID, UUID: m.UUID, TaskID: m.TaskID, Name: m.Name, CronExpression: m.CronExpression,
		Timezone: m.Timezone, Input: rawJSON(m.Input), Enabled: m.Enabled,
		MaxExecutions: m.MaxExecutions, ExecutionCount: m.ExecutionCount,
		NextRunAt: utcPtr(m.NextRunAt), LastRunAt: utcPtr(m.LastRunAt),
		CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
	}
	if err := unmarshalJSON(m.OutputDestinations, &s.OutputDestinations, "schedule output destinations"); err != nil {
		return core.Schedule{}, err
	}
	return s, nil
}

func scheduleToModel(s core.Schedule) (*scheduleModel, error) {
	if err := checkJSON("schedule input", s.Input); err != nil {
		return nil, err
	}
	dests, err := marshalJSON(s.OutputDestinations, len(s.OutputDestinations) == 0)
	if err != nil {
		return nil, err
	}
	return &scheduleModel{
		ID: s.ID, UUID: s.UUID, TaskID: s.TaskID, Name: s.Name, CronExpression: s.CronExpression,
		Timezone: s.Timezone, Input: rawJSON(s.Input), Enabled: s.Enabled,
		MaxExecutions: s.MaxExecutions, ExecutionCount: s.ExecutionCount,
		NextRunAt: truncTimePtr(s.NextRunAt), LastRunAt: truncTimePtr(s.LastRunAt),
		OutputDestinations: dests, CreatedAt: truncTime(s.CreatedAt), UpdatedAt: truncTime(s.UpdatedAt),
	}, nil
}

// --- deliveries

func deliveryFromModel(m *deliveryModel) core.DeliveryResult {
	d := core.DeliveryResult{
		ID: m.ID, JobID: m.JobID, DestinationType: m.DestinationType, Destination: m.Destination,
		Success: m.Success, Attempts: m.Attempts, StatusCode: m.StatusCode,
		ErrorMessage: m.ErrorMessage, DurationMS: m.DurationMS, CreatedAt: m.CreatedAt.UTC(),
	}
	if m.ExecutionID != nil {
		d.ExecutionID = *m.ExecutionID
	}
	return d
}

// --- workers

func workerFromModel(m *workerModel) core.Worker {
	return core.Worker{
		ID: m.ID, Node: m.Node, PID: m.PID, Status: core.WorkerStatus(m.Status),
		CurrentExecutionID: m.CurrentExecutionID, ExecutionsTotal: m.ExecutionsTotal,
		FailuresTotal: m.FailuresTotal, Restarts: m.Restarts, MemoryBytes: m.MemoryBytes,
		StartedAt: m.StartedAt.UTC(), LastHeartbeatAt: utcPtr(m.LastHeartbeatAt),
	}
}
