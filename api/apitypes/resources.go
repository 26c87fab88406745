package apitypes

import (
	"encoding/json"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// Task is a registered task at its current version.
type Task struct {
	ID             int64           `json:"id" doc:"Numeric id."`
	UUID           string          `json:"uuid" doc:"Stable UUID (from metadata.json, or derived from the name)."`
	Name           string          `json:"name" doc:"Unique slug. A task is addressed by its id, uuid or name."`
	Label          string          `json:"label" doc:"Display name."`
	Version        string          `json:"version" doc:"Version of the current content (default 1.0.0)."`
	Description    string          `json:"description"`
	Tags           []string        `json:"tags"`
	Author         string          `json:"author"`
	Enabled        bool            `json:"enabled" doc:"Disabled tasks cannot be executed, queued or scheduled."`
	TimeoutSeconds int             `json:"timeout_seconds" doc:"The task's own timeout from metadata.json; 0 uses the server's limit."`
	InputSchema    json.RawMessage `json:"input_schema" doc:"JSON Schema of the input; null when the task has none (no validation)."`
	OutputSchema   json.RawMessage `json:"output_schema" doc:"JSON Schema of the output; null when the task has none."`
	Metadata       json.RawMessage `json:"metadata" doc:"metadata.json as given, unknown fields included."`
	Source         string          `json:"source" doc:"Where the task came from: a registry URI, \"api\" or \"plugin:<name>\"."`
	LoadError      string          `json:"load_error" doc:"Why the latest load of the task's source failed; empty when it loaded."`
	Checksum       string          `json:"checksum" doc:"SHA-256 of the current content."`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

// Job is a request to run a task, queued and retried by the server.
type Job struct {
	ID                 int64               `json:"id"`
	UUID               string              `json:"uuid"`
	TaskID             int64               `json:"task_id"`
	TaskName           string              `json:"task_name"`
	Status             core.JobStatus      `json:"status"`
	Priority           core.Priority       `json:"priority" doc:"low < normal < high < urgent; FIFO within a priority."`
	Input              json.RawMessage     `json:"input" doc:"The task's input (any JSON value)."`
	Output             json.RawMessage     `json:"output" doc:"The task's output once completed; null before."`
	ErrorType          string              `json:"error_type" doc:"Kind of the last failure (SPEC 2.4), such as ValidationError or TimeoutError; empty when none."`
	ErrorMessage       string              `json:"error_message"`
	Attempts           int                 `json:"attempts" doc:"Executions started so far."`
	MaxRetries         int                 `json:"max_retries"`
	RetryDelaySeconds  int                 `json:"retry_delay_seconds" doc:"Base of the exponential retry backoff."`
	TimeoutSeconds     int                 `json:"timeout_seconds" doc:"Per-execution timeout; 0 uses the task's or the server's."`
	ProcessAt          time.Time           `json:"process_at" doc:"The job does not run before this time."`
	ScheduleID         *int64              `json:"schedule_id" doc:"The schedule that enqueued the job, if any."`
	IdempotencyKey     string              `json:"idempotency_key"`
	ExecutionID        *int64              `json:"execution_id" doc:"The latest execution of the job."`
	OutputDestinations []OutputDestination `json:"output_destinations"`
	Metadata           map[string]any      `json:"metadata"`
	CreatedAt          time.Time           `json:"created_at"`
	StartedAt          *time.Time          `json:"started_at"`
	CompletedAt        *time.Time          `json:"completed_at"`
}

// Execution is one run of a task: one attempt of a job, or a synchronous
// execute.
type Execution struct {
	ID           int64                `json:"id"`
	UUID         string               `json:"uuid"`
	TaskID       int64                `json:"task_id"`
	TaskName     string               `json:"task_name"`
	TaskVersion  string               `json:"task_version"`
	JobID        *int64               `json:"job_id" doc:"The job this execution is an attempt of; null for a synchronous execute."`
	Status       core.ExecutionStatus `json:"status"`
	Input        json.RawMessage      `json:"input"`
	Output       json.RawMessage      `json:"output" doc:"The task's return value; null unless completed."`
	ErrorType    string               `json:"error_type" doc:"The thrown error's name or one of the runtime's kinds (SPEC 2.4); empty unless failed."`
	ErrorMessage string               `json:"error_message"`
	ErrorDetails json.RawMessage      `json:"error_details" doc:"Structured details of the failure (schema errors, the HTTP status...); null when none."`
	Logs         []LogEntry           `json:"logs" doc:"console output of the task."`
	HTTPRequests []HTTPRequest        `json:"http_requests" doc:"Every fetch the task made."`
	WorkerID     string               `json:"worker_id"`
	Attempt      int                  `json:"attempt" doc:"Attempt number within the job, from 1."`
	QueuedAt     time.Time            `json:"queued_at"`
	StartedAt    *time.Time           `json:"started_at"`
	CompletedAt  *time.Time           `json:"completed_at"`
	DurationMS   *int64               `json:"duration_ms" doc:"Run time in milliseconds once finished."`
}

// LogEntry is one console line of a task.
type LogEntry struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level" enum:"debug,info,log,warn,error"`
	Message string    `json:"message"`
}

// HTTPRequest records one fetch made by a task.
type HTTPRequest struct {
	Method     string    `json:"method"`
	URL        string    `json:"url"`
	Status     int       `json:"status" doc:"Response status; 0 when no response arrived."`
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error" doc:"Why the request failed; empty when it got a response."`
	Mocked     bool      `json:"mocked" doc:"Answered by a test mock."`
	StartedAt  time.Time `json:"started_at"`
}

// ExecutionLogs is the answer of GET /executions/{id}/logs.
type ExecutionLogs struct {
	ExecutionID  int64         `json:"execution_id"`
	Logs         []LogEntry    `json:"logs"`
	HTTPRequests []HTTPRequest `json:"http_requests"`
}

// Schedule enqueues a job for a task on a cron expression.
type Schedule struct {
	ID                 int64               `json:"id"`
	UUID               string              `json:"uuid"`
	TaskID             int64               `json:"task_id"`
	Name               string              `json:"name"`
	CronExpression     string              `json:"cron_expression" doc:"5 fields, 6 fields (seconds first) or a descriptor such as @hourly or @every 5m."`
	Timezone           string              `json:"timezone" doc:"IANA time zone the expression is read in (default UTC)."`
	Input              json.RawMessage     `json:"input" doc:"Input of every job the schedule enqueues."`
	Enabled            bool                `json:"enabled"`
	MaxExecutions      *int                `json:"max_executions" doc:"The schedule stops after this many jobs; null for no limit."`
	ExecutionCount     int                 `json:"execution_count" doc:"Jobs the cron ticks have enqueued so far; manual triggers are not counted."`
	NextRunAt          *time.Time          `json:"next_run_at"`
	LastRunAt          *time.Time          `json:"last_run_at"`
	OutputDestinations []OutputDestination `json:"output_destinations"`
	CreatedAt          time.Time           `json:"created_at"`
	UpdatedAt          time.Time           `json:"updated_at"`
}

// Worker is one worker process of a node's pool.
type Worker struct {
	ID                 string            `json:"id"`
	Node               string            `json:"node" doc:"The server node running the worker."`
	PID                int               `json:"pid"`
	Status             core.WorkerStatus `json:"status"`
	CurrentExecutionID *int64            `json:"current_execution_id"`
	ExecutionsTotal    int64             `json:"executions_total"`
	FailuresTotal      int64             `json:"failures_total"`
	Restarts           int               `json:"restarts"`
	MemoryBytes        int64             `json:"memory_bytes" doc:"Resident memory of the process."`
	StartedAt          time.Time         `json:"started_at"`
	LastHeartbeatAt    *time.Time        `json:"last_heartbeat_at"`
}

// Delivery is one delivery of a job's output to one destination.
type Delivery struct {
	ID              int64     `json:"id"`
	JobID           int64     `json:"job_id"`
	ExecutionID     *int64    `json:"execution_id"`
	DestinationType string    `json:"destination_type" enum:"filesystem,webhook"`
	Destination     string    `json:"destination" doc:"The file path or the URL delivered to."`
	Success         bool      `json:"success"`
	Attempts        int       `json:"attempts"`
	StatusCode      *int      `json:"status_code" doc:"The webhook's response status; null for files or when no response arrived."`
	ErrorMessage    string    `json:"error_message"`
	DurationMS      int64     `json:"duration_ms"`
	CreatedAt       time.Time `json:"created_at"`
}

// OutputDestination says where a job's output is delivered (SPEC §3).
type OutputDestination struct {
	Type   string         `json:"type" enum:"filesystem,webhook"`
	Config map[string]any `json:"config,omitempty" doc:"filesystem: path, format (json, json_compact, yaml, csv, raw), permissions, create_dirs, overwrite; webhook: url, method, headers, auth, signature, timeout, retry_policy."`
}
