package events_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/events"
)

func newBus(t *testing.T, cfg events.Config) *events.Bus {
	t.Helper()
	b, err := events.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func jobEvent(typ core.EventType, jobID, taskID int64) core.Event {
	return core.Event{Type: typ, Job: &core.Job{ID: jobID, TaskID: taskID}}
}

// recv reads one event or fails after a generous deadline (a hang guard, not
// a timing assertion).
func recv(t *testing.T, ch <-chan core.Event) core.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("channel closed, want an event")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event received")
	}
	return core.Event{}
}

func assertClosed(t *testing.T, ch <-chan core.Event) {
	t.Helper()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("channel not closed")
		}
	}
}

func assertEmpty(t *testing.T, ch <-chan core.Event) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %s", ev.Type)
		}
		t.Fatal("channel unexpectedly closed")
	default:
	}
}

func TestNewRejectsNegativeBuffer(t *testing.T) {
	t.Parallel()
	if _, err := events.New(events.Config{BufferSize: -1}); err == nil {
		t.Fatal("want an error for a negative buffer size")
	}
}

func TestPublishStampsTimeAndNode(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := newBus(t, events.Config{Node: "node-a", Now: func() time.Time { return now }})
	ch, cancel := b.Subscribe(t.Context(), nil)
	defer cancel()

	b.Publish(t.Context(), jobEvent(core.EventJobQueued, 1, 1))
	given := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	b.Publish(t.Context(), core.Event{Type: core.EventJobStarted, Time: given, Node: "other", Job: &core.Job{ID: 1}})

	ev := recv(t, ch)
	if !ev.Time.Equal(now) || ev.Node != "node-a" {
		t.Errorf("first event: time %v node %q, want %v and node-a", ev.Time, ev.Node, now)
	}
	ev = recv(t, ch)
	if !ev.Time.Equal(given) || ev.Node != "other" {
		t.Errorf("second event: time %v node %q, want the given ones kept", ev.Time, ev.Node)
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	jobID := int64(7)
	execOfJob := core.Event{Type: core.EventExecutionFinished, Execution: &core.Execution{ID: 70, TaskID: 3, JobID: &jobID}}
	execNoJob := core.Event{Type: core.EventExecutionFinished, Execution: &core.Execution{ID: 71, TaskID: 4}}
	worker := core.Event{Type: core.EventWorkerStatusChanged, Worker: &core.Worker{ID: "w1"}}
	job7 := jobEvent(core.EventJobCompleted, 7, 3)
	job8 := jobEvent(core.EventJobFailed, 8, 4)

	tests := []struct {
		name   string
		filter events.Filter
		ev     core.Event
		want   bool
	}{
		{"type match", events.OfType(core.EventJobCompleted, core.EventJobFailed), job7, true},
		{"type miss", events.OfType(core.EventJobQueued), job7, false},
		{"type none", events.OfType(), job7, false},
		{"job by job", events.ForJob(7), job7, true},
		{"job other job", events.ForJob(7), job8, false},
		{"job by execution", events.ForJob(7), execOfJob, true},
		{"job execution without job", events.ForJob(7), execNoJob, false},
		{"job worker", events.ForJob(7), worker, false},
		{"execution match", events.ForExecution(70), execOfJob, true},
		{"execution miss", events.ForExecution(71), execOfJob, false},
		{"execution on job event", events.ForExecution(7), job7, false},
		{"task by job", events.ForTask(3), job7, true},
		{"task by execution", events.ForTask(4), execNoJob, true},
		{"task miss", events.ForTask(3), job8, false},
		{"task zero never matches worker", events.ForTask(0), worker, false},
		{"workers", events.Workers(), worker, true},
		{"workers on job", events.Workers(), job7, false},
		{"all match", events.All(events.ForJob(7), events.OfType(core.EventJobCompleted)), job7, true},
		{"all miss", events.All(events.ForJob(7), events.OfType(core.EventJobQueued)), job7, false},
		{"all empty", events.All(), job7, true},
		{"all nil", events.All(nil), job7, true},
		{"any match", events.Any(events.ForJob(8), events.Workers()), worker, true},
		{"any miss", events.Any(events.ForJob(8), events.Workers()), job7, false},
		{"any nil", events.Any(nil), job7, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.filter(tt.ev); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSubscribeFilterDelivery(t *testing.T) {
	t.Parallel()
	b := newBus(t, events.Config{})
	all, cancelAll := b.Subscribe(t.Context(), nil)
	defer cancelAll()
	job7, cancel7 := b.Subscribe(t.Context(), events.ForJob(7))
	defer cancel7()

	b.Publish(t.Context(), jobEvent(core.EventJobQueued, 8, 1))
	b.Publish(t.Context(), jobEvent(core.EventJobQueued, 7, 1))
	b.Publish(t.Context(), jobEvent(core.EventJobCompleted, 7, 1))

	for _, want := range []int64{8, 7, 7} {
		if got := recv(t, all).Job.ID; got != want {
			t.Fatalf("unfiltered subscription got job %d, want %d", got, want)
		}
	}
	if ev := recv(t, job7); ev.Type != core.EventJobQueued || ev.Job.ID != 7 {
		t.Fatalf("filtered subscription got %s for job %d", ev.Type, ev.Job.ID)
	}
	if ev := recv(t, job7); ev.Type != core.EventJobCompleted {
		t.Fatalf("filtered subscription got %s, want job.completed", ev.Type)
	}
	assertEmpty(t, job7)
	st := b.Stats()
	if st.Published != 3 || st.Delivered != 5 || st.Dropped != 0 || st.Subscribers != 2 {
		t.Errorf("stats = %+v, want published 3, delivered 5, dropped 0, subscribers 2", st)
	}
}

func TestCancelClosesOnceAndUnsubscribes(t *testing.T) {
	t.Parallel()
	b := newBus(t, events.Config{})
	ch, cancel := b.Subscribe(t.Context(), nil)
	if got := b.Stats().Subscribers; got != 1 {
		t.Fatalf("subscribers = %d, want 1", got)
	}
	cancel()
	cancel() // idempotent: a second close would panic
	assertClosed(t, ch)
	if got := b.Stats().Subscribers; got != 0 {
		t.Fatalf("subscribers after cancel = %d, want 0", got)
	}
	b.Publish(t.Context(), jobEvent(core.EventJobQueued, 1, 1))
	if st := b.Stats(); st.Delivered != 0 || st.Dropped != 0 {
		t.Errorf("a cancelled subscription still counted: %+v", st)
	}
}

func TestContextEndCancels(t *testing.T) {
	t.Parallel()
	b := newBus(t, events.Config{})
	ctx, cancelCtx := context.WithCancel(t.Context())
	ch, cancel := b.Subscribe(ctx, nil)
	cancelCtx()
	assertClosed(t, ch)
	cancel() // still safe after the context closed it
	waitFor(t, func() bool { return b.Stats().Subscribers == 0 })
}

func TestSubscribeWithEndedContext(t *testing.T) {
	t.Parallel()
	b := newBus(t, events.Config{})
	ctx, cancelCtx := context.WithCancel(t.Context())
	cancelCtx()
	ch, cancel := b.Subscribe(ctx, nil)
	defer cancel()
	assertClosed(t, ch)
	if got := b.Stats().Subscribers; got != 0 {
		t.Errorf("subscribers = %d, want 0", got)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	var forwarded atomic.Int64
	b, err := events.New(events.Config{Forwarder: events.ForwarderFunc(func(context.Context, core.Event) { forwarded.Add(1) })})
	if err != nil {
		t.Fatal(err)
	}
	ch1, cancel1 := b.Subscribe(t.Context(), nil)
	ch2, cancel2 := b.Subscribe(t.Context(), events.ForJob(1))
	b.Publish(t.Context(), jobEvent(core.EventJobQueued, 1, 1))
	b.Close()
	b.Close() // idempotent

	// Buffered events are still readable, then the channel is closed.
	if ev := recv(t, ch1); ev.Job.ID != 1 {
		t.Fatalf("got job %d", ev.Job.ID)
	}
	assertClosed(t, ch1)
	recv(t, ch2)
	assertClosed(t, ch2)
	cancel1() // cancel after Close must not panic
	cancel2()

	b.Publish(t.Context(), jobEvent(core.EventJobQueued, 2, 1))
	b.Deliver(jobEvent(core.EventJobQueued, 3, 1))
	if got := forwarded.Load(); got != 1 {
		t.Errorf("forwarded %d events, want 1 (none after Close)", got)
	}
	if st := b.Stats(); st.Published != 1 || st.Subscribers != 0 {
		t.Errorf("stats after close = %+v", st)
	}
	ch3, cancel3 := b.Subscribe(t.Context(), nil)
	defer cancel3()
	assertClosed(t, ch3)
}

func TestSlowSubscriberDropsAndIsCounted(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	b := newBus(t, events.Config{BufferSize: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	slow, cancelSlow := b.Subscribe(t.Context(), nil)
	defer cancelSlow()
	big, cancelBig := b.SubscribeBuffered(t.Context(), nil, 10)
	defer cancelBig()

	for i := range 5 {
		b.Publish(t.Context(), jobEvent(core.EventJobQueued, int64(i), 1)) // never blocks
	}
	st := b.Stats()
	if st.Dropped != 3 || st.Delivered != 7 {
		t.Fatalf("stats = %+v, want 3 dropped (slow) and 7 delivered (2 slow + 5 big)", st)
	}
	// The slow subscriber kept the oldest events, in order.
	for _, want := range []int64{0, 1} {
		if got := recv(t, slow).Job.ID; got != want {
			t.Fatalf("slow subscriber got job %d, want %d", got, want)
		}
	}
	assertEmpty(t, slow)
	for want := range int64(5) {
		if got := recv(t, big).Job.ID; got != want {
			t.Fatalf("big subscriber got job %d, want %d", got, want)
		}
	}
	// Once drained, the slow subscriber receives again.
	b.Publish(t.Context(), jobEvent(core.EventJobQueued, 9, 1))
	if got := recv(t, slow).Job.ID; got != 9 {
		t.Fatalf("got job %d after draining, want 9", got)
	}
	if n := strings.Count(logs.String(), "dropping events"); n != 1 {
		t.Errorf("logged %d drop warnings for one burst, want 1:\n%s", n, logs.String())
	}
}

func TestForwarderAndDeliver(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var forwarded []core.Event
	b := newBus(t, events.Config{Node: "n1", Forwarder: events.ForwarderFunc(func(_ context.Context, ev core.Event) {
		mu.Lock()
		forwarded = append(forwarded, ev)
		mu.Unlock()
	})})
	ch, cancel := b.Subscribe(t.Context(), nil)
	defer cancel()

	b.Publish(t.Context(), jobEvent(core.EventJobQueued, 1, 1))
	b.Deliver(core.Event{Type: core.EventJobQueued, Node: "n2", Job: &core.Job{ID: 2}})

	if ev := recv(t, ch); ev.Job.ID != 1 || ev.Node != "n1" {
		t.Fatalf("got job %d from %q", ev.Job.ID, ev.Node)
	}
	if ev := recv(t, ch); ev.Job.ID != 2 || ev.Node != "n2" {
		t.Fatalf("got job %d from %q, want the remote event as received", ev.Job.ID, ev.Node)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(forwarded) != 1 || forwarded[0].Job.ID != 1 || forwarded[0].Node != "n1" || forwarded[0].Time.IsZero() {
		t.Fatalf("forwarded %+v, want only the local event, stamped", forwarded)
	}
}

func TestFilterPanicIsRecovered(t *testing.T) {
	t.Parallel()
	b := newBus(t, events.Config{})
	bad, cancelBad := b.Subscribe(t.Context(), func(core.Event) bool { panic("boom") })
	defer cancelBad()
	good, cancelGood := b.Subscribe(t.Context(), nil)
	defer cancelGood()

	b.Publish(t.Context(), jobEvent(core.EventJobQueued, 1, 1))
	recv(t, good)
	assertEmpty(t, bad)
}

// TestConcurrentPublishersAndSubscribers runs publishers, steady subscribers
// and churning subscribers at once; under -race it checks the locking, and it
// checks that no event is lost for subscribers with room and that each
// publisher's events arrive in order.
func TestConcurrentPublishersAndSubscribers(t *testing.T) {
	t.Parallel()
	const publishers, perPublisher, steady = 8, 500, 6
	b := newBus(t, events.Config{BufferSize: publishers * perPublisher})

	type sub struct {
		ch     <-chan core.Event
		cancel func()
	}
	subs := make([]sub, steady)
	for i := range subs {
		var f events.Filter
		if i%2 == 1 {
			f = events.OfType(core.EventJobQueued)
		}
		ch, cancel := b.Subscribe(t.Context(), f)
		subs[i] = sub{ch, cancel}
	}

	var wg sync.WaitGroup
	stopChurn := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stopChurn:
					return
				default:
				}
				ctx, cancelCtx := context.WithCancel(t.Context())
				ch, cancel := b.SubscribeBuffered(ctx, nil, 1)
				select {
				case <-ch:
				default:
				}
				if time.Now().UnixNano()%2 == 0 {
					cancel()
				} else {
					cancelCtx()
				}
				assertClosedQuiet(ch)
				cancel()
				cancelCtx()
			}
		})
	}

	counts := make([]int, steady)
	var readers sync.WaitGroup
	for i, s := range subs {
		readers.Go(func() {
			last := make(map[int64]int64) // publisher → last sequence seen
			for ev := range s.ch {
				pub, seq := ev.Job.TaskID, ev.Job.ID
				if prev, ok := last[pub]; ok && seq <= prev {
					t.Errorf("subscriber %d: publisher %d sequence %d after %d", i, pub, seq, prev)
				}
				last[pub] = seq
				counts[i]++
			}
		})
	}

	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			for n := range perPublisher {
				typ := core.EventJobQueued
				if n%2 == 1 {
					typ = core.EventJobStarted
				}
				b.Publish(t.Context(), jobEvent(typ, int64(n), int64(p)))
			}
		})
	}
	pubs.Wait()
	close(stopChurn)
	wg.Wait()
	for _, s := range subs {
		s.cancel()
	}
	readers.Wait()

	for i, n := range counts {
		want := publishers * perPublisher
		if i%2 == 1 {
			want /= 2
		}
		if n != want {
			t.Errorf("subscriber %d received %d events, want %d", i, n, want)
		}
	}
	if st := b.Stats(); st.Published != publishers*perPublisher || st.Subscribers != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestConcurrentClose closes the bus while publishers and subscribers run.
func TestConcurrentClose(t *testing.T) {
	t.Parallel()
	b, err := events.New(events.Config{BufferSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 2000 {
				b.Publish(t.Context(), jobEvent(core.EventJobQueued, int64(i), 1))
			}
		})
		wg.Go(func() {
			for range 200 {
				ch, cancel := b.Subscribe(t.Context(), nil)
				for range ch {
					cancel() // closes the channel we are ranging over
				}
				cancel()
			}
		})
	}
	b.Close()
	wg.Wait()
	if got := b.Stats().Subscribers; got != 0 {
		t.Errorf("subscribers after close = %d", got)
	}
}

func assertClosedQuiet(ch <-chan core.Event) {
	for range ch {
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
