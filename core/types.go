package core

import (
	"encoding/json"
	"time"
)

// Task is a unit of work users register: a JavaScript function with input
// and output schemas (or a task provided by a plugin). The fields describe
// its current version; older versions are TaskVersion rows.
type Task struct {
	ID           int64           `json:"id"`
	UUID         string          `json:"uuid"`
	Name         string          `json:"name"`
	Label        string          `json:"label,omitempty"`
	Version      string          `json:"version"`
	Description  string          `json:"description,omitempty"`
	Tags         []string        `json:"tags,omitempty"`
	Author       string          `json:"author,omitempty"`
	Timeout      time.Duration   `json:"-"`
	Enabled      bool            `json:"enabled"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
	// Metadata is the task's metadata.json as given, unknown fields included.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Source says where the task came from: a registry URI, "api" or "plugin:<name>".
	Source string `json:"source,omitempty"`
	// LoadError is set when the latest load of the task's source failed.
	LoadError string `json:"load_error,omitempty"`
	// Checksum identifies the current version's content (code and schemas).
	Checksum  string    `json:"checksum,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TaskVersion is one immutable content version of a task.
type TaskVersion struct {
	ID           int64           `json:"id"`
	TaskID       int64           `json:"task_id"`
	Version      string          `json:"version"`
	Checksum     string          `json:"checksum"`
	Code         string          `json:"code"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	// Tests holds the task's test files as a JSON array, kept so that
	// POST /tasks/{id}/test works for uploaded tasks.
	Tests     json.RawMessage `json:"tests,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// LogEntry is one console line captured from a task.
type LogEntry struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// HTTPRequestLog records one fetch made by a task.
type HTTPRequestLog struct {
	Method     string    `json:"method"`
	URL        string    `json:"url"`
	Status     int       `json:"status"`
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
	Mocked     bool      `json:"mocked,omitempty"`
	StartedAt  time.Time `json:"started_at"`
}

// Execution is one run of a task: one attempt of a job, a synchronous
// execute, or a run outside any job.
type Execution struct {
	ID           int64            `json:"id"`
	UUID         string           `json:"uuid"`
	TaskID       int64            `json:"task_id"`
	TaskName     string           `json:"task_name,omitempty"`
	TaskVersion  string           `json:"task_version,omitempty"`
	JobID        *int64           `json:"job_id"`
	Status       ExecutionStatus  `json:"status"`
	Input        json.RawMessage  `json:"input"`
	Output       json.RawMessage  `json:"output,omitempty"`
	ErrorType    string           `json:"error_type,omitempty"`
	ErrorMessage string           `json:"error_message,omitempty"`
	ErrorDetails json.RawMessage  `json:"error_details,omitempty"`
	Logs         []LogEntry       `json:"logs"`
	HTTPRequests []HTTPRequestLog `json:"http_requests"`
	WorkerID     string           `json:"worker_id,omitempty"`
	Attempt      int              `json:"attempt"`
	QueuedAt     time.Time        `json:"queued_at"`
	StartedAt    *time.Time       `json:"started_at,omitempty"`
	CompletedAt  *time.Time       `json:"completed_at,omitempty"`
	DurationMS   *int64           `json:"duration_ms,omitempty"`
}

// Job is a request to run a task, queued and retried by the execution manager.
type Job struct {
	ID                 int64               `json:"id"`
	UUID               string              `json:"uuid"`
	TaskID             int64               `json:"task_id"`
	TaskName           string              `json:"task_name,omitempty"`
	Status             JobStatus           `json:"status"`
	Priority           Priority            `json:"priority"`
	Input              json.RawMessage     `json:"input"`
	Output             json.RawMessage     `json:"output,omitempty"`
	ErrorType          string              `json:"error_type,omitempty"`
	ErrorMessage       string              `json:"error_message,omitempty"`
	Attempts           int                 `json:"attempts"`
	MaxRetries         int                 `json:"max_retries"`
	RetryDelaySeconds  int                 `json:"retry_delay_seconds"`
	TimeoutSeconds     int                 `json:"timeout_seconds,omitempty"`
	ProcessAt          time.Time           `json:"process_at"`
	ScheduleID         *int64              `json:"schedule_id,omitempty"`
	IdempotencyKey     string              `json:"idempotency_key,omitempty"`
	ExecutionID        *int64              `json:"execution_id,omitempty"`
	OutputDestinations []OutputDestination `json:"output_destinations,omitempty"`
	Metadata           map[string]any      `json:"metadata,omitempty"`
	// LeaseOwner and LeaseExpiresAt belong to the node processing the job.
	LeaseOwner     string     `json:"lease_owner,omitempty"`
	LeaseExpiresAt *time.Time `json:"lease_expires_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	StartedAt      *time.Time `json:"started_at,omitempty"`
	CompletedAt    *time.Time `json:"completed_at,omitempty"`
}

// Schedule enqueues a job for a task on a cron expression.
type Schedule struct {
	ID                 int64               `json:"id"`
	UUID               string              `json:"uuid"`
	TaskID             int64               `json:"task_id"`
	Name               string              `json:"name"`
	CronExpression     string              `json:"cron_expression"`
	Timezone           string              `json:"timezone"`
	Input              json.RawMessage     `json:"input"`
	Enabled            bool                `json:"enabled"`
	MaxExecutions      *int                `json:"max_executions,omitempty"`
	ExecutionCount     int                 `json:"execution_count"`
	NextRunAt          *time.Time          `json:"next_run_at,omitempty"`
	LastRunAt          *time.Time          `json:"last_run_at,omitempty"`
	OutputDestinations []OutputDestination `json:"output_destinations,omitempty"`
	CreatedAt          time.Time           `json:"created_at"`
	UpdatedAt          time.Time           `json:"updated_at"`
}

// Worker describes one worker process of a node's pool.
type Worker struct {
	ID                 string       `json:"id"`
	Node               string       `json:"node"`
	PID                int          `json:"pid"`
	Status             WorkerStatus `json:"status"`
	CurrentExecutionID *int64       `json:"current_execution_id,omitempty"`
	ExecutionsTotal    int64        `json:"executions_total"`
	FailuresTotal      int64        `json:"failures_total"`
	Restarts           int          `json:"restarts"`
	MemoryBytes        int64        `json:"memory_bytes"`
	StartedAt          time.Time    `json:"started_at"`
	LastHeartbeatAt    *time.Time   `json:"last_heartbeat_at,omitempty"`
}

// Destination types for output delivery.
const (
	DestinationFilesystem = "filesystem"
	DestinationWebhook    = "webhook"
)

// OutputDestination says where a job's output is delivered. Type selects
// which fields apply; Config holds them as given by the user, so the
// delivery module owns their validation.
type OutputDestination struct {
	Type   string         `json:"type"`
	Config map[string]any `json:"config,omitempty"`
}

// DeliveryResult records one delivery of one job's output to one destination.
type DeliveryResult struct {
	ID              int64     `json:"id"`
	JobID           int64     `json:"job_id"`
	ExecutionID     int64     `json:"execution_id"`
	DestinationType string    `json:"destination_type"`
	Destination     string    `json:"destination,omitempty"`
	Success         bool      `json:"success"`
	Attempts        int       `json:"attempts"`
	StatusCode      *int      `json:"status_code,omitempty"`
	ErrorMessage    string    `json:"error_message,omitempty"`
	DurationMS      int64     `json:"duration_ms"`
	CreatedAt       time.Time `json:"created_at"`
}
