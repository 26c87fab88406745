package worker

import (
	"encoding/json"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/fetch"
)

// Task is one version of a task as the worker protocol carries it. Hash
// identifies the content (code, schemas, timeout): two tasks with the same
// hash must have the same content, because a worker that has seen a hash
// runs it without being sent the content again.
type Task struct {
	Hash    string
	ID      int64
	Name    string
	Version string

	Code         string
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	// Timeout is the task's own timeout (metadata.json), 0 when unset.
	Timeout time.Duration
}

// ExecContext is the `context` argument the task function receives
// (SPEC §2.2).
type ExecContext struct {
	ExecutionID string
	// JobID is nil outside a job (run-once, a synchronous execute).
	JobID       *int64
	TaskID      int64
	TaskName    string
	TaskVersion string
	// Attempt counts from 1.
	Attempt int
}

// HTTPSettings govern fetch inside a task (config http.*). Zero values
// take the engine's defaults.
type HTTPSettings struct {
	Timeout      time.Duration
	UserAgent    string
	AllowedHosts []string
	DeniedHosts  []string
	// InsecureSkipVerify is http.verify_ssl: false.
	InsecureSkipVerify bool
	// MaxRedirects is http.max_redirects: 0 (or negative) follows none.
	MaxRedirects     int
	MaxResponseBytes int64
	MaxRequestBytes  int64
}

// Limits bound one execution. Zero values take the engine's defaults.
type Limits struct {
	// Timeout is the per-call timeout (a job's timeout_seconds).
	Timeout time.Duration
	// MaxDuration is execution.max_execution_duration; 0 means
	// DefaultMaxDuration.
	MaxDuration    time.Duration
	MaxInputBytes  int64
	MaxOutputBytes int64
	// SkipSchemaValidation is execution.validate_schemas: false.
	SkipSchemaValidation bool
	MaxLogEntries        int
	HTTP                 HTTPSettings
}

// DefaultMaxDuration bounds an execution when Limits.MaxDuration is 0; it
// is the engine's default.
const DefaultMaxDuration = 300 * time.Second

// Request is one execution to run in a worker.
type Request struct {
	Task    Task
	Input   json.RawMessage
	Context ExecContext
	Limits  Limits
	// Mocks answer matching fetch calls (task tests).
	Mocks []fetch.Mock
	// NetworkDisabled makes a fetch that no mock answers throw NetworkError.
	NetworkDisabled bool
}

// Timeout is the execution's effective limit: the smallest of the
// per-call timeout, the task's own and the maximum duration. The worker
// interrupts the execution when it passes; the pool kills the worker when
// it has not answered KillGrace later.
func (r *Request) Timeout() time.Duration {
	d := r.Limits.MaxDuration
	if d <= 0 {
		d = DefaultMaxDuration
	}
	for _, t := range []time.Duration{r.Task.Timeout, r.Limits.Timeout} {
		if t > 0 && t < d {
			d = t
		}
	}
	return d
}

// Result is how an execution ended. Exactly one of Output and Err is set.
type Result struct {
	Output       json.RawMessage
	Err          *core.Error
	Logs         []core.LogEntry
	HTTPRequests []core.HTTPRequestLog
	Duration     time.Duration
	// Stats are the worker's stats right after the execution (zero when the
	// worker died).
	Stats Stats
}

// Stats describe a worker process.
type Stats struct {
	PID                  int
	StartedAt            time.Time
	Uptime               time.Duration
	ExecutionsTotal      int64
	FailuresTotal        int64
	RSSBytes             int64
	HeapBytes            int64
	CurrentExecutionID   string
	CachedTasks          int
	TaskContentsReceived int64
	MemoryLimitBytes     int64
}
