package clusterbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/clusterbus"
	"github.com/ratchet-go/ratchet/lib/events"
	"github.com/ratchet-go/ratchet/resilience/lifecycle"
	"github.com/ratchet-go/ratchet/resilience/retry"
	"github.com/ratchet-go/ratchet/storage/storagetest"
)

// timeout is the generous deadline for anything to arrive.
const timeout = 30 * time.Second

// schemaDSN returns the test server's DSN with the search_path on a fresh
// schema (so the derived channel is the test's own), or skips.
func schemaDSN(t *testing.T) string {
	t.Helper()
	dsn := storagetest.PostgresDSN(t)
	return storagetest.WithSearchPath(t, dsn, storagetest.NewPostgresSchema(t, dsn))
}

// withAppName tags dsn's connections, to find (and kill) them in
// pg_stat_activity.
func withAppName(t *testing.T, dsn, name string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// node is one simulated node: a bus and its relay, started.
type node struct {
	name  string
	bus   *events.Bus
	relay *clusterbus.Relay
}

func newNode(t *testing.T, dsn, name string, edit func(*clusterbus.Config)) *node {
	t.Helper()
	n := &node{name: name}
	var err error
	n.bus, err = events.New(events.Config{Node: name, Forwarder: events.ForwarderFunc(func(ctx context.Context, ev core.Event) {
		n.relay.Forward(ctx, ev)
	})})
	if err != nil {
		t.Fatal(err)
	}
	cfg := clusterbus.Config{Node: name,
		Reconnect: retry.Policy{InitialDelay: 20 * time.Millisecond, MaxDelay: 500 * time.Millisecond, Multiplier: 2}}
	if edit != nil {
		edit(&cfg)
	}
	if n.relay, err = clusterbus.New(dsn, n.bus, cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := n.relay.Start(ctx); err != nil {
		t.Fatalf("starting %s's relay: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := n.relay.Stop(ctx); err != nil {
			t.Errorf("stopping %s's relay: %v", name, err)
		}
		n.bus.Close()
	})
	return n
}

func (n *node) subscribe(t *testing.T) <-chan core.Event {
	t.Helper()
	ch, cancel := n.bus.SubscribeBuffered(t.Context(), nil, 1024)
	t.Cleanup(cancel)
	return ch
}

// next returns the next event on ch that matches, failing after timeout.
func next(t *testing.T, ch <-chan core.Event, match func(core.Event) bool) core.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("subscription closed")
			}
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no matching event after %s", timeout)
		}
	}
}

func jobEvent(typ core.EventType, id int64) core.Event {
	return core.Event{Type: typ, Job: &core.Job{ID: id, TaskID: 5, Status: core.JobQueued,
		Input: json.RawMessage(`{"n":1}`), ProcessAt: time.Now().UTC()}}
}

func isJob(id int64) func(core.Event) bool {
	return func(ev core.Event) bool { return ev.Job != nil && ev.Job.ID == id }
}

// TestAcrossNodes: an event published on A reaches B's subscribers with
// its snapshot and node, and does not come back to A; every event type
// crosses.
func TestAcrossNodes(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	a, b := newNode(t, dsn, "node-a", nil), newNode(t, dsn, "node-b", nil)
	if a.relay.Channel() != b.relay.Channel() || !strings.HasPrefix(a.relay.Channel(), clusterbus.DefaultChannel+"_ratchet_test_") {
		t.Fatalf("channels %q and %q: want the same, derived from the schema", a.relay.Channel(), b.relay.Channel())
	}
	onA, onB := a.subscribe(t), b.subscribe(t)

	sent := jobEvent(core.EventJobQueued, 1)
	a.bus.Publish(t.Context(), sent)
	got := next(t, onB, isJob(1))
	if got.Type != core.EventJobQueued || got.Node != "node-a" || got.Job.TaskID != 5 ||
		string(got.Job.Input) != `{"n":1}` || !got.Job.ProcessAt.Equal(sent.Job.ProcessAt) || got.Time.IsZero() {
		t.Errorf("B received %+v (job %+v)", got, got.Job)
	}

	// Every type crosses, in A's order.
	jobID := int64(2)
	exec := &core.Execution{ID: 11, TaskID: 5, JobID: &jobID, Status: core.ExecutionCompleted, Output: json.RawMessage(`{"ok":true}`)}
	worker := &core.Worker{ID: "node-a-worker-1", Node: "node-a", Status: core.WorkerBusy}
	for _, typ := range core.EventTypes {
		ev := core.Event{Type: typ}
		switch typ {
		case core.EventExecutionFinished:
			ev.Execution = exec
		case core.EventWorkerStatusChanged:
			ev.Worker = worker
		default:
			ev.Job = &core.Job{ID: jobID, TaskID: 5, Status: core.JobProcessing}
		}
		a.bus.Publish(t.Context(), ev)
	}
	for _, typ := range core.EventTypes {
		ev := next(t, onB, func(ev core.Event) bool { return ev.Node == "node-a" && !isJob(1)(ev) })
		if ev.Type != typ {
			t.Fatalf("B received %s, want %s (A's order)", ev.Type, typ)
		}
		if typ == core.EventExecutionFinished && string(ev.Execution.Output) != `{"ok":true}` {
			t.Errorf("execution output %s", ev.Execution.Output)
		}
		if typ == core.EventWorkerStatusChanged && (ev.Worker.ID != worker.ID || ev.Worker.Status != core.WorkerBusy) {
			t.Errorf("worker %+v", ev.Worker)
		}
	}

	// B answers. A's own notifications were committed before B's answer,
	// so A's listener has seen them by the time the answer arrives: A's
	// subscriber must have seen each of A's events once (locally), no more.
	b.bus.Publish(t.Context(), jobEvent(core.EventJobCompleted, 99))
	own := 0
	next(t, onA, func(ev core.Event) bool {
		if ev.Node == "node-a" {
			own++
		}
		return isJob(99)(ev)
	})
	if want := 1 + len(core.EventTypes); own != want {
		t.Errorf("A's subscriber saw %d of A's events, want %d: own events came back", own, want)
	}
	if st := a.relay.Stats(); st.Received != 1 {
		t.Errorf("A's stats %+v: want 1 received (B's)", st)
	}
	if st := b.relay.Stats(); st.Received != 1+uint64(len(core.EventTypes)) {
		t.Errorf("B's stats %+v: want %d received", st, 1+len(core.EventTypes))
	}
	// A sender counts after its round trip, which may end after delivery.
	eventually(t, "A's and B's sent counters", func() bool {
		return a.relay.Stats().Sent == 1+uint64(len(core.EventTypes)) && b.relay.Stats().Sent == 1
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// terminate kills every backend whose application_name is name and returns
// how many it killed.
func terminate(t *testing.T, dsn, name string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, name).Scan(&n)
	if err != nil {
		t.Fatalf("terminating %s's connections: %v", name, err)
	}
	return n
}

// TestReconnect: after its connections are killed, a relay listens again
// (and says so through OnReconnect) and sends again.
func TestReconnect(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	appName := fmt.Sprintf("clusterbus_test_%d", time.Now().UnixNano())
	var reconnected atomic.Int32
	a := newNode(t, withAppName(t, dsn, appName), "node-a", func(c *clusterbus.Config) {
		c.OnReconnect = func() { reconnected.Add(1) }
	})
	b := newNode(t, dsn, "node-b", nil)
	onA, onB := a.subscribe(t), b.subscribe(t)

	// Both of A's connections are open once A has sent something.
	a.bus.Publish(t.Context(), jobEvent(core.EventJobQueued, 1))
	next(t, onB, isJob(1))
	if n := terminate(t, dsn, appName); n != 2 {
		t.Fatalf("terminated %d of A's connections, want 2 (listener and sender)", n)
	}

	// B's events sent while A reconnects are lost: send until one arrives.
	deadline := time.Now().Add(timeout)
	for id := int64(100); ; id++ {
		if time.Now().After(deadline) {
			t.Fatalf("A received nothing from B within %s of losing its connections", timeout)
		}
		b.bus.Publish(t.Context(), jobEvent(core.EventJobQueued, id))
		select {
		case ev := <-onA:
			if ev.Node != "node-b" {
				continue
			}
		case <-time.After(200 * time.Millisecond):
			continue
		}
		break
	}
	if reconnected.Load() < 1 || a.relay.Stats().Reconnects < 1 {
		t.Errorf("OnReconnect called %d times, stats %+v: want at least once", reconnected.Load(), a.relay.Stats())
	}

	// A's sender lost its connection too: the next send reconnects.
	a.bus.Publish(t.Context(), jobEvent(core.EventJobCompleted, 2))
	next(t, onB, isJob(2))
}

// TestPayloadBound: every notification stays under PostgreSQL's 8000
// bytes; a big event arrives trimmed, filled back by a receiver that can
// load it; many small events share notifications.
func TestPayloadBound(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	a := newNode(t, dsn, "node-a", func(c *clusterbus.Config) { c.MaxPayload = 4096 })
	plain := newNode(t, dsn, "node-b", nil)
	big := core.Job{ID: 7, TaskID: 5, Status: core.JobCompleted, Attempts: 1,
		Input:        json.RawMessage(`{"in":1}`),
		Output:       json.RawMessage(`"` + strings.Repeat("o", 100_000) + `"`),
		ErrorMessage: strings.Repeat("e", 10_000)}
	loading := newNode(t, dsn, "node-c", func(c *clusterbus.Config) {
		c.LoadJob = func(_ context.Context, id int64) (core.Job, error) {
			if id != big.ID {
				return core.Job{}, core.ErrNotFound
			}
			return big, nil
		}
		c.LoadExecution = func(context.Context, int64) (core.Execution, error) {
			return core.Execution{}, errors.New("no executions here")
		}
	})
	onPlain, onLoading := plain.subscribe(t), loading.subscribe(t)

	// A raw listener sees the payloads themselves.
	ctx := t.Context()
	raw, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(context.Background())
	if _, err := raw.Exec(ctx, "LISTEN "+pgx.Identifier{a.relay.Channel()}.Sanitize()); err != nil {
		t.Fatal(err)
	}

	const small = 300
	a.bus.Publish(ctx, core.Event{Type: core.EventJobCompleted, Job: &big})
	for i := range small {
		a.bus.Publish(ctx, jobEvent(core.EventJobQueued, int64(1000+i)))
	}
	a.bus.Publish(ctx, jobEvent(core.EventJobQueued, 1)) // the last one

	got := next(t, onPlain, isJob(7))
	if got.Job.Output != nil || len(got.Job.ErrorMessage) > 512 || got.Job.Status != core.JobCompleted || got.Job.Attempts != 1 {
		t.Errorf("without a loader: output %d bytes, error %d bytes, status %s: want trimmed, status kept",
			len(got.Job.Output), len(got.Job.ErrorMessage), got.Job.Status)
	}
	got = next(t, onLoading, isJob(7))
	if string(got.Job.Output) != string(big.Output) || got.Job.ErrorMessage != big.ErrorMessage || string(got.Job.Input) != `{"in":1}` {
		t.Errorf("with a loader: output %d bytes, error %d bytes: want them filled from the database",
			len(got.Job.Output), len(got.Job.ErrorMessage))
	}
	next(t, onPlain, isJob(1))

	notifications, events := 0, 0
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for events < small+2 {
		n, err := raw.WaitForNotification(wctx)
		if err != nil {
			t.Fatalf("after %d notifications (%d events): %v", notifications, events, err)
		}
		if len(n.Payload) > 4096 {
			t.Errorf("payload of %d bytes, MaxPayload 4096", len(n.Payload))
		}
		var env struct {
			Events []json.RawMessage `json:"e"`
		}
		if err := json.Unmarshal([]byte(n.Payload), &env); err != nil {
			t.Fatalf("payload %q: %v", n.Payload, err)
		}
		notifications++
		events += len(env.Events)
	}
	if notifications >= events {
		t.Errorf("%d notifications for %d events: small events should share them", notifications, events)
	}
	eventually(t, "A's trimmed counter", func() bool { return a.relay.Stats().Trimmed == 1 })
	if st := a.relay.Stats(); st.Dropped != 0 {
		t.Errorf("A's stats %+v: want none dropped", st)
	}
}

// TestStopFlushes: events queued when Stop is called are still sent.
func TestStopFlushes(t *testing.T) {
	t.Parallel()
	dsn := schemaDSN(t)
	a := newNode(t, dsn, "node-a", nil)
	b := newNode(t, dsn, "node-b", nil)
	onB := b.subscribe(t)
	for i := range 100 {
		a.bus.Publish(t.Context(), jobEvent(core.EventJobQueued, int64(i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := a.relay.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	next(t, onB, isJob(99))
	if err := a.relay.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := a.relay.Start(ctx); !errors.Is(err, lifecycle.ErrStopped) {
		t.Errorf("Start after Stop: %v, want ErrStopped", err)
	}
	a.bus.Publish(t.Context(), jobEvent(core.EventJobQueued, 500)) // dropped quietly
}

// TestStartTwice: a started relay refuses a second Start.
func TestStartTwice(t *testing.T) {
	t.Parallel()
	a := newNode(t, schemaDSN(t), "node-a", nil)
	if err := a.relay.Start(t.Context()); !errors.Is(err, lifecycle.ErrAlreadyStarted) {
		t.Errorf("second Start: %v, want ErrAlreadyStarted", err)
	}
}

// TestNoLeak: Start then Stop leaves no goroutine behind, even with
// connections killed in between. Not parallel, so that other tests'
// goroutines do not count.
func TestNoLeak(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	dsn = withAppName(t, storagetest.WithSearchPath(t, dsn, storagetest.NewPostgresSchema(t, dsn)), "clusterbus_leak_test")
	before := goleak.IgnoreCurrent()
	bus, err := events.New(events.Config{Node: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	r, err := clusterbus.New(dsn, bus, clusterbus.Config{Node: "a"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r.Forward(ctx, jobEvent(core.EventJobQueued, 1))
	terminate(t, storagetest.PostgresDSN(t), "clusterbus_leak_test")
	r.Forward(ctx, jobEvent(core.EventJobQueued, 2))
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
}

// TestWithoutServer: building needs no server, the queue drops what does
// not fit, Stop before Start is fine, and a Start that cannot connect
// fails and leaves nothing running.
func TestWithoutServer(t *testing.T) {
	t.Parallel()
	bus, err := events.New(events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	if _, err := clusterbus.New("postgres://x@127.0.0.1:1/db", nil, clusterbus.Config{Node: "a"}); err == nil {
		t.Error("New accepted a nil Deliverer")
	}
	if _, err := clusterbus.New("postgres://x@127.0.0.1:1/db?sslmode=bogus", bus, clusterbus.Config{Node: "a"}); err == nil {
		t.Error("New accepted an invalid DSN")
	}
	r, err := clusterbus.New("postgres://x@127.0.0.1:1/db?sslmode=disable", bus, clusterbus.Config{Node: "a", QueueSize: 2, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r.Forward(t.Context(), jobEvent(core.EventJobQueued, int64(i)))
	}
	if st := r.Stats(); st.Dropped != 3 {
		t.Errorf("stats %+v: want 3 dropped by a queue of 2", st)
	}
	if err := r.Start(t.Context()); err == nil {
		t.Error("Start without a server succeeded")
	}
	if err := r.Stop(t.Context()); err != nil {
		t.Errorf("Stop after a failed Start: %v", err)
	}
	never, _ := clusterbus.New("postgres://x@127.0.0.1:1/db", bus, clusterbus.Config{Node: "a"})
	if err := never.Stop(t.Context()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
}
