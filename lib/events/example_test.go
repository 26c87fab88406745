package events_test

import (
	"context"
	"fmt"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/events"
)

// A synchronous execute waits for the end of its own job.
func Example() {
	bus, err := events.New(events.Config{Node: "node-1"})
	if err != nil {
		panic(err)
	}
	defer bus.Close()

	ctx := context.Background()
	done, cancel := bus.Subscribe(ctx, events.All(
		events.ForJob(42),
		events.OfType(core.EventJobCompleted, core.EventJobFailed, core.EventJobCancelled),
	))
	defer cancel()

	bus.Publish(ctx, core.Event{Type: core.EventJobStarted, Job: &core.Job{ID: 42}})
	bus.Publish(ctx, core.Event{Type: core.EventJobCompleted, Job: &core.Job{ID: 41}})
	bus.Publish(ctx, core.Event{Type: core.EventJobCompleted, Job: &core.Job{ID: 42}})

	ev := <-done
	fmt.Println(ev.Type, ev.Job.ID, ev.Node)
	// Output: job.completed 42 node-1
}
