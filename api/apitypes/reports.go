package apitypes

import (
	"encoding/json"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// TaskTestReport is the answer of POST /tasks/{id}/test.
type TaskTestReport struct {
	Task       string           `json:"task"`
	Passed     int              `json:"passed"`
	Failed     int              `json:"failed"`
	OK         bool             `json:"ok" doc:"Every test passed."`
	DurationMS float64          `json:"duration_ms"`
	Tests      []TaskTestResult `json:"tests"`
}

// TaskTestResult is the outcome of one test case.
type TaskTestResult struct {
	File       string        `json:"file" doc:"The test's file, such as tests/basic.json."`
	Name       string        `json:"name"`
	Passed     bool          `json:"passed"`
	DurationMS float64       `json:"duration_ms"`
	Message    string        `json:"message" doc:"Why the test failed; empty when it passed."`
	Expected   string        `json:"expected" doc:"Expected output (pretty JSON) or error, for display."`
	Actual     string        `json:"actual" doc:"Actual output (pretty JSON) or error, for display."`
	Diff       []string      `json:"diff" doc:"The differing JSON paths when both sides are outputs."`
	Error      *TaskError    `json:"error,omitempty" doc:"The task's error when it failed; absent otherwise."`
	Logs       []LogEntry    `json:"logs"`
	HTTP       []HTTPRequest `json:"http_requests" doc:"The fetches the task made (mocked)."`
}

// TaskError is a task failure inside a report.
type TaskError struct {
	Type    string `json:"type" doc:"The error's name or the runtime's kind (SPEC 2.4)."`
	Message string `json:"message"`
}

// ValidationReport is the answer of POST /tasks/{id}/validate.
type ValidationReport struct {
	Task       string              `json:"task"`
	Valid      bool                `json:"valid" doc:"No problem is an error."`
	Errors     int                 `json:"errors"`
	Warnings   int                 `json:"warnings"`
	InputValid *bool               `json:"input_valid" doc:"Whether the given input matches the input schema; null when no input was given."`
	Problems   []ValidationProblem `json:"problems"`
}

// ValidationProblem is one finding of a validation.
type ValidationProblem struct {
	File     string `json:"file" doc:"The task's file at fault (metadata.json, main.js, input.schema.json, tests/x.json), or \"input\"."`
	Line     int    `json:"line" doc:"1-based; 0 when unknown."`
	Column   int    `json:"column"`
	Severity string `json:"severity" enum:"error,warning"`
	Message  string `json:"message"`
}

// NewValidationReport counts problems and fills Valid.
func NewValidationReport(task string, problems []ValidationProblem, inputValid *bool) ValidationReport {
	r := ValidationReport{Task: task, InputValid: inputValid, Problems: problems}
	if r.Problems == nil {
		r.Problems = []ValidationProblem{}
	}
	for _, p := range problems {
		if p.Severity == "warning" {
			r.Warnings++
		} else {
			r.Errors++
		}
	}
	r.Valid = r.Errors == 0
	return r
}

// JobStats is the answer of GET /jobs/stats.
type JobStats struct {
	Total          int64            `json:"total" doc:"Every stored job."`
	ByStatus       map[string]int64 `json:"by_status" doc:"Jobs per status; every status is present."`
	ByPriority     map[string]int64 `json:"by_priority" doc:"Active jobs (queued, retrying, processing) per priority; every priority is present."`
	QueueDepth     int64            `json:"queue_depth" doc:"Jobs waiting to run: queued and retrying."`
	Active         int64            `json:"active" doc:"Jobs not finished: queued, retrying and processing (what server.job_queue.max_queue_size bounds)."`
	OldestQueuedAt *time.Time       `json:"oldest_queued_at" doc:"process_at of the oldest waiting job, when the server knows it."`
}

// JobCount is the number of jobs in one status and priority, the input of
// NewJobStats.
type JobCount struct {
	Status   core.JobStatus
	Priority core.Priority
	Count    int64
}

// NewJobStats sums counts by status and priority.
func NewJobStats(counts []JobCount) JobStats {
	s := JobStats{ByStatus: map[string]int64{}, ByPriority: map[string]int64{}}
	for _, st := range core.JobStatuses {
		s.ByStatus[string(st)] = 0
	}
	for _, p := range core.Priorities {
		s.ByPriority[p.String()] = 0
	}
	for _, c := range counts {
		s.Total += c.Count
		s.ByStatus[string(c.Status)] += c.Count
		switch c.Status {
		case core.JobQueued, core.JobRetrying:
			s.QueueDepth += c.Count
			s.Active += c.Count
		case core.JobProcessing:
			s.Active += c.Count
		default:
			continue
		}
		if c.Priority.Valid() {
			s.ByPriority[c.Priority.String()] += c.Count
		}
	}
	return s
}

// WorkerStats is the answer of GET /workers/stats, over every node.
type WorkerStats struct {
	Total            int            `json:"total"`
	ByStatus         map[string]int `json:"by_status" doc:"Workers per status; every status is present."`
	ByNode           map[string]int `json:"by_node" doc:"Workers per node."`
	Busy             int            `json:"busy"`
	Idle             int            `json:"idle"`
	ExecutionsTotal  int64          `json:"executions_total"`
	FailuresTotal    int64          `json:"failures_total"`
	RestartsTotal    int64          `json:"restarts_total"`
	MemoryBytesTotal int64          `json:"memory_bytes_total"`
	Nodes            int            `json:"nodes"`
}

// NewWorkerStats sums a list of workers.
func NewWorkerStats(ws []core.Worker) WorkerStats {
	s := WorkerStats{ByStatus: map[string]int{}, ByNode: map[string]int{}}
	for _, st := range core.WorkerStatuses {
		s.ByStatus[string(st)] = 0
	}
	for _, w := range ws {
		s.Total++
		s.ByStatus[string(w.Status)]++
		s.ByNode[w.Node]++
		switch w.Status {
		case core.WorkerBusy:
			s.Busy++
		case core.WorkerIdle:
			s.Idle++
		}
		s.ExecutionsTotal += w.ExecutionsTotal
		s.FailuresTotal += w.FailuresTotal
		s.RestartsTotal += int64(w.Restarts)
		s.MemoryBytesTotal += w.MemoryBytes
	}
	s.Nodes = len(s.ByNode)
	return s
}

// Health statuses.
const (
	HealthOK        = "ok"
	HealthDegraded  = "degraded"
	HealthUnhealthy = "unhealthy"
)

// Health is the answer of GET /health (liveness): the process answers.
type Health struct {
	Status string    `json:"status" enum:"ok"`
	Time   time.Time `json:"time"`
}

// HealthDetailed is the answer of GET /health/detailed: 200 when ok or
// degraded, 503 when unhealthy.
type HealthDetailed struct {
	Status        string                 `json:"status" enum:"ok,degraded,unhealthy" doc:"The worst status of the checks."`
	Time          time.Time              `json:"time"`
	Version       string                 `json:"version"`
	Node          string                 `json:"node"`
	UptimeSeconds int64                  `json:"uptime_seconds"`
	QueueDepth    int64                  `json:"queue_depth" doc:"Jobs waiting to run."`
	Checks        map[string]HealthCheck `json:"checks" doc:"database, workers, scheduler and queue, at least."`
}

// HealthCheck is the state of one dependency.
type HealthCheck struct {
	Status     string         `json:"status" enum:"ok,degraded,unhealthy"`
	Message    string         `json:"message"`
	DurationMS float64        `json:"duration_ms" doc:"How long the check took."`
	Details    map[string]any `json:"details,omitempty"`
}

// WorstHealth is the worst of statuses (ok < degraded < unhealthy); ok
// when there are none.
func WorstHealth(checks map[string]HealthCheck) string {
	worst := HealthOK
	for _, c := range checks {
		switch c.Status {
		case HealthUnhealthy:
			return HealthUnhealthy
		case HealthDegraded:
			worst = HealthDegraded
		}
	}
	return worst
}

// Readiness is the answer of GET /ready: 200 when ready, 503 otherwise.
type Readiness struct {
	Ready  bool                   `json:"ready"`
	Status string                 `json:"status" enum:"ready,not_ready"`
	Checks map[string]HealthCheck `json:"checks"`
}

// Version is the answer of GET /version.
type Version struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	BuildDate  string `json:"build_date"`
	GoVersion  string `json:"go_version"`
	APIVersion string `json:"api_version" enum:"v1"`
}

// rawOrNull keeps a JSON value, or null when there is none.
func rawOrNull(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return nil
	}
	return v
}
