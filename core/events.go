package core

import (
	"context"
	"time"
)

// EventType names a domain event.
type EventType string

const (
	EventJobQueued           EventType = "job.queued"
	EventJobStarted          EventType = "job.started"
	EventJobCompleted        EventType = "job.completed"
	EventJobFailed           EventType = "job.failed"
	EventJobCancelled        EventType = "job.cancelled"
	EventJobRetrying         EventType = "job.retrying"
	EventExecutionFinished   EventType = "execution.finished"
	EventWorkerStatusChanged EventType = "worker.status_changed"
)

// EventTypes lists every event type.
var EventTypes = []EventType{
	EventJobQueued, EventJobStarted, EventJobCompleted, EventJobFailed,
	EventJobCancelled, EventJobRetrying, EventExecutionFinished, EventWorkerStatusChanged,
}

// JobEventType is the event announcing that a job entered status s, if any.
func JobEventType(s JobStatus) (EventType, bool) {
	switch s {
	case JobQueued:
		return EventJobQueued, true
	case JobProcessing:
		return EventJobStarted, true
	case JobCompleted:
		return EventJobCompleted, true
	case JobFailed:
		return EventJobFailed, true
	case JobCancelled:
		return EventJobCancelled, true
	case JobRetrying:
		return EventJobRetrying, true
	}
	return "", false
}

// Event is one domain event. Exactly one of Job, Execution or Worker is set,
// matching Type; the snapshot is taken when the event happened.
type Event struct {
	Type      EventType  `json:"type"`
	Time      time.Time  `json:"time"`
	Node      string     `json:"node,omitempty"`
	Job       *Job       `json:"job,omitempty"`
	Execution *Execution `json:"execution,omitempty"`
	Worker    *Worker    `json:"worker,omitempty"`
}

// TaskID is the task the event concerns, or 0 for worker events.
func (e Event) TaskID() int64 {
	switch {
	case e.Job != nil:
		return e.Job.TaskID
	case e.Execution != nil:
		return e.Execution.TaskID
	}
	return 0
}

// Publisher is what components that emit events need.
type Publisher interface {
	Publish(ctx context.Context, ev Event)
}

// Subscriber lets consumers (subscriptions, plugin hooks, synchronous
// execute) receive events. The returned cancel func ends the subscription
// and closes the channel.
type Subscriber interface {
	Subscribe(ctx context.Context, filter func(Event) bool) (<-chan Event, func())
}
