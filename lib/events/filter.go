package events

import "github.com/ratchet-go/ratchet/core"

// Filter selects events for a subscription. A nil Filter matches every
// event.
type Filter = func(core.Event) bool

// OfType matches events of any of the given types.
func OfType(types ...core.EventType) Filter {
	set := make(map[core.EventType]bool, len(types))
	for _, t := range types {
		set[t] = true
	}
	return func(ev core.Event) bool { return set[ev.Type] }
}

// ForJob matches events about job id: job events for that job and
// execution events of its executions.
func ForJob(id int64) Filter {
	return func(ev core.Event) bool {
		switch {
		case ev.Job != nil:
			return ev.Job.ID == id
		case ev.Execution != nil:
			return ev.Execution.JobID != nil && *ev.Execution.JobID == id
		}
		return false
	}
}

// ForExecution matches execution events about execution id.
func ForExecution(id int64) Filter {
	return func(ev core.Event) bool { return ev.Execution != nil && ev.Execution.ID == id }
}

// ForTask matches job and execution events about task id.
func ForTask(id int64) Filter {
	return func(ev core.Event) bool { return ev.TaskID() == id && id != 0 }
}

// Workers matches worker events.
func Workers() Filter {
	return func(ev core.Event) bool { return ev.Worker != nil }
}

// All matches events that every filter matches (nil filters match all).
func All(filters ...Filter) Filter {
	return func(ev core.Event) bool {
		for _, f := range filters {
			if f != nil && !f(ev) {
				return false
			}
		}
		return true
	}
}

// Any matches events that at least one filter matches (a nil filter
// matches all).
func Any(filters ...Filter) Filter {
	return func(ev core.Event) bool {
		for _, f := range filters {
			if f == nil || f(ev) {
				return true
			}
		}
		return false
	}
}
