package graphql

import (
	"context"
	"encoding/json"
	"strconv"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/events"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// jobEventResolver resolves a JobEvent.
type jobEventResolver struct {
	r  *root
	ev core.Event
}

func (e *jobEventResolver) Type() string { return string(e.ev.Type) }
func (e *jobEventResolver) At() DateTime { return dateTime(e.ev.Time) }
func (e *jobEventResolver) Node() string { return e.ev.Node }
func (e *jobEventResolver) Job() *jobResolver {
	if e.ev.Job == nil {
		return nil
	}
	return &jobResolver{e.r, *e.ev.Job}
}
func (e *jobEventResolver) Execution() *executionResolver {
	if e.ev.Execution == nil {
		return nil
	}
	return &executionResolver{*e.ev.Execution}
}

// workerEventResolver resolves a WorkerEvent.
type workerEventResolver struct{ ev core.Event }

func (e *workerEventResolver) Type() string            { return string(e.ev.Type) }
func (e *workerEventResolver) At() DateTime            { return dateTime(e.ev.Time) }
func (e *workerEventResolver) Node() string            { return e.ev.Node }
func (e *workerEventResolver) Worker() *workerResolver { return &workerResolver{*e.ev.Worker} }

// forward sends the events of ch, converted, until ctx ends, ch closes or
// last reports the final event; then it closes the returned channel and
// ends the bus subscription.
func forward[T any](ctx context.Context, ch <-chan core.Event, cancel func(), first []core.Event, conv func(core.Event) T, last func(core.Event) bool) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		defer cancel()
		send := func(ev core.Event) bool {
			select {
			case out <- conv(ev):
				return !last(ev)
			case <-ctx.Done():
				return false
			}
		}
		for _, ev := range first {
			if !send(ev) {
				return
			}
		}
		for {
			select {
			case ev, ok := <-ch:
				if !ok || !send(ev) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func never(core.Event) bool { return false }

// JobUpdates sends the job as it is now, then its events, and ends once the
// job is completed, failed or cancelled.
func (r *root) JobUpdates(ctx context.Context, args struct{ JobID gql.ID }) (<-chan *jobEventResolver, error) {
	id, err := r.jobID(ctx, args.JobID)
	if err != nil {
		return nil, err
	}
	// Subscribe before reading the job, so that no change is missed.
	ch, cancel := r.sub.Subscribe(ctx, events.ForJob(id))
	job, err := r.svc.Jobs().Get(ctx, strconv.FormatInt(id, 10))
	if err != nil {
		cancel()
		return nil, err
	}
	typ, _ := core.JobEventType(job.Status)
	now := core.Event{Type: typ, Time: job.CreatedAt, Job: &job}
	if job.StartedAt != nil {
		now.Time = *job.StartedAt
	}
	if job.CompletedAt != nil {
		now.Time = *job.CompletedAt
	}
	conv := func(ev core.Event) *jobEventResolver { return &jobEventResolver{r, ev} }
	final := func(ev core.Event) bool { return ev.Job != nil && ev.Job.Status.Terminal() }
	return forward(ctx, ch, cancel, []core.Event{now}, conv, final), nil
}

// ExecutionUpdates sends every job and execution event of a task.
func (r *root) ExecutionUpdates(ctx context.Context, args struct{ TaskID gql.ID }) (<-chan *jobEventResolver, error) {
	id, err := r.taskRef(ctx, args.TaskID)
	if err != nil {
		return nil, err
	}
	if _, err := r.svc.Tasks().Get(ctx, strconv.FormatInt(id, 10)); err != nil {
		return nil, err
	}
	ch, cancel := r.sub.Subscribe(ctx, events.ForTask(id))
	conv := func(ev core.Event) *jobEventResolver { return &jobEventResolver{r, ev} }
	return forward(ctx, ch, cancel, nil, conv, never), nil
}

// WorkerStatus sends worker status changes.
func (r *root) WorkerStatus(ctx context.Context) (<-chan *workerEventResolver, error) {
	ch, cancel := r.sub.Subscribe(ctx, events.Workers())
	conv := func(ev core.Event) *workerEventResolver { return &workerEventResolver{ev} }
	return forward(ctx, ch, cancel, nil, conv, never), nil
}
