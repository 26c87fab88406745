package core

import (
	"fmt"
	"strings"
)

// JobStatus is where a job is in its life (SPEC §3).
type JobStatus string

const (
	JobQueued     JobStatus = "queued"
	JobProcessing JobStatus = "processing"
	JobRetrying   JobStatus = "retrying"
	JobCompleted  JobStatus = "completed"
	JobFailed     JobStatus = "failed"
	JobCancelled  JobStatus = "cancelled"
)

// JobStatuses lists every job status in lifecycle order.
var JobStatuses = []JobStatus{JobQueued, JobProcessing, JobRetrying, JobCompleted, JobFailed, JobCancelled}

// jobTransitions is the whole job state machine. A job is claimed from queued
// or retrying; a running job ends, waits for a retry, or goes back to queued
// when its lease expired or the server drained it; failed and cancelled jobs
// can be queued again by an explicit retry; completed is final.
var jobTransitions = map[JobStatus][]JobStatus{
	JobQueued:     {JobProcessing, JobCancelled},
	JobProcessing: {JobCompleted, JobFailed, JobRetrying, JobCancelled, JobQueued},
	JobRetrying:   {JobProcessing, JobCancelled, JobQueued},
	JobFailed:     {JobQueued},
	JobCancelled:  {JobQueued},
	JobCompleted:  nil,
}

// ParseJobStatus accepts a status name case-insensitively.
func ParseJobStatus(s string) (JobStatus, error) {
	for _, st := range JobStatuses {
		if strings.EqualFold(string(st), strings.TrimSpace(s)) {
			return st, nil
		}
	}
	return "", Errorf(KindInvalidArgument, "invalid job status %q: must be one of %s", s, joinNames(JobStatuses))
}

// Valid reports whether s is a defined job status.
func (s JobStatus) Valid() bool { _, ok := jobTransitions[s]; return ok }

// Terminal reports whether the job is done running (it may still be retried
// by hand when failed or cancelled).
func (s JobStatus) Terminal() bool {
	return s == JobCompleted || s == JobFailed || s == JobCancelled
}

// Cancellable reports whether a cancel request applies to a job in s.
func (s JobStatus) Cancellable() bool { return s.CanTransitionTo(JobCancelled) }

// CanTransitionTo reports whether the job state machine allows s → to.
func (s JobStatus) CanTransitionTo(to JobStatus) bool {
	for _, t := range jobTransitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// CheckTransition returns a conflict error when s → to is not allowed.
func (s JobStatus) CheckTransition(to JobStatus) error {
	if s.CanTransitionTo(to) {
		return nil
	}
	return Errorf(KindConflict, "job cannot go from %s to %s", s, to)
}

// ExecutionStatus is where one execution attempt is (SPEC §3).
type ExecutionStatus string

const (
	ExecutionPending   ExecutionStatus = "pending"
	ExecutionRunning   ExecutionStatus = "running"
	ExecutionCompleted ExecutionStatus = "completed"
	ExecutionFailed    ExecutionStatus = "failed"
	ExecutionCancelled ExecutionStatus = "cancelled"
)

// ExecutionStatuses lists every execution status in lifecycle order.
var ExecutionStatuses = []ExecutionStatus{ExecutionPending, ExecutionRunning, ExecutionCompleted, ExecutionFailed, ExecutionCancelled}

// executionTransitions: an execution runs once; it can fail or be cancelled
// before it starts (no worker, shutdown), and every end is final.
var executionTransitions = map[ExecutionStatus][]ExecutionStatus{
	ExecutionPending:   {ExecutionRunning, ExecutionFailed, ExecutionCancelled},
	ExecutionRunning:   {ExecutionCompleted, ExecutionFailed, ExecutionCancelled},
	ExecutionCompleted: nil,
	ExecutionFailed:    nil,
	ExecutionCancelled: nil,
}

// ParseExecutionStatus accepts a status name case-insensitively.
func ParseExecutionStatus(s string) (ExecutionStatus, error) {
	for _, st := range ExecutionStatuses {
		if strings.EqualFold(string(st), strings.TrimSpace(s)) {
			return st, nil
		}
	}
	return "", Errorf(KindInvalidArgument, "invalid execution status %q: must be one of %s", s, joinNames(ExecutionStatuses))
}

// Valid reports whether s is a defined execution status.
func (s ExecutionStatus) Valid() bool { _, ok := executionTransitions[s]; return ok }

// Terminal reports whether the execution has ended.
func (s ExecutionStatus) Terminal() bool {
	return s == ExecutionCompleted || s == ExecutionFailed || s == ExecutionCancelled
}

// CanTransitionTo reports whether the execution state machine allows s → to.
func (s ExecutionStatus) CanTransitionTo(to ExecutionStatus) bool {
	for _, t := range executionTransitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// CheckTransition returns a conflict error when s → to is not allowed.
func (s ExecutionStatus) CheckTransition(to ExecutionStatus) error {
	if s.CanTransitionTo(to) {
		return nil
	}
	return Errorf(KindConflict, "execution cannot go from %s to %s", s, to)
}

// WorkerStatus is the state of one worker process in the pool.
type WorkerStatus string

const (
	WorkerStarting  WorkerStatus = "starting"
	WorkerIdle      WorkerStatus = "idle"
	WorkerBusy      WorkerStatus = "busy"
	WorkerUnhealthy WorkerStatus = "unhealthy"
	WorkerStopping  WorkerStatus = "stopping"
	WorkerStopped   WorkerStatus = "stopped"
	WorkerCrashed   WorkerStatus = "crashed"
)

// WorkerStatuses lists every worker status.
var WorkerStatuses = []WorkerStatus{WorkerStarting, WorkerIdle, WorkerBusy, WorkerUnhealthy, WorkerStopping, WorkerStopped, WorkerCrashed}

// ParseWorkerStatus accepts a status name case-insensitively.
func ParseWorkerStatus(s string) (WorkerStatus, error) {
	for _, st := range WorkerStatuses {
		if strings.EqualFold(string(st), strings.TrimSpace(s)) {
			return st, nil
		}
	}
	return "", Errorf(KindInvalidArgument, "invalid worker status %q: must be one of %s", s, joinNames(WorkerStatuses))
}

func joinNames[T ~string](vals []T) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = string(v)
	}
	return strings.Join(parts, ", ")
}

// Priority orders jobs: higher runs first, FIFO within a priority. It is
// stored as its number and shown as its lowercase name.
type Priority int

const (
	PriorityLow    Priority = 0
	PriorityNormal Priority = 1
	PriorityHigh   Priority = 2
	PriorityUrgent Priority = 3
)

// Priorities lists every priority from lowest to highest.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

var priorityNames = map[Priority]string{
	PriorityLow: "low", PriorityNormal: "normal", PriorityHigh: "high", PriorityUrgent: "urgent",
}

// ParsePriority accepts a priority name case-insensitively; "critical" is
// an alias of urgent. The empty string is normal.
func ParsePriority(s string) (Priority, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	switch name {
	case "":
		return PriorityNormal, nil
	case "critical":
		return PriorityUrgent, nil
	}
	for p, n := range priorityNames {
		if n == name {
			return p, nil
		}
	}
	return 0, Errorf(KindInvalidArgument, "invalid priority %q: must be one of low, normal, high, urgent (or critical)", s)
}

// Valid reports whether p is a defined priority.
func (p Priority) Valid() bool { _, ok := priorityNames[p]; return ok }

func (p Priority) String() string {
	if n, ok := priorityNames[p]; ok {
		return n
	}
	return fmt.Sprintf("priority(%d)", int(p))
}

// MarshalText renders the priority by name, so JSON carries "high".
func (p Priority) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("invalid priority %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText parses a priority name.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
