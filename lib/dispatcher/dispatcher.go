package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/resilience/lifecycle"
	"github.com/ratchet-go/ratchet/runtime/worker"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

type state int

const (
	stateNew state = iota
	stateStarted
	stateStopping
	stateStopped
)

// Dispatcher claims jobs and runs them on the pool. Create one with New;
// it satisfies lifecycle.Component.
type Dispatcher struct {
	cfg      Config
	store    *sqlstore.Store
	pool     Pool
	log      *slog.Logger
	contents *Contents
	workers  int

	pluginSchemas pluginSchemas

	mu     sync.Mutex
	state  state
	runs   map[int64]*run // claimed jobs not yet recorded, by job id
	nextAt time.Time      // earliest known future process_at
	// armedAt is when the loop's timer fires (zero: not armed). It is
	// only ever early: a later job needs no wake-up.
	armedAt time.Time

	wake    chan struct{}
	freed   chan struct{}
	ready   chan *run
	results chan *run

	outstanding atomic.Int64 // claimed and not done running
	running     atomic.Int64
	avgNanos    atomic.Int64 // moving mean of attempt durations

	stopping    chan struct{} // closed by Stop: claim no more
	maintStop   chan struct{} // closed once no job runs: stop extending leases
	loopDone    chan struct{}
	runners     sync.WaitGroup
	maint       sync.WaitGroup
	completer   chan struct{} // closed when the completer has flushed
	syncRuns    sync.WaitGroup
	deliveries  sync.WaitGroup
	deliverCtx  context.Context
	deliverStop context.CancelFunc
	unsubscribe func()

	stats counters
}

type counters struct {
	claimed, completed, failed, retried, cancelled, requeued atomic.Int64
}

// Stats are the dispatcher's counters since it started.
type Stats struct {
	Node        string `json:"node"`
	Workers     int    `json:"workers"`
	Outstanding int64  `json:"outstanding"`
	Running     int64  `json:"running"`
	Claimed     int64  `json:"claimed"`
	Completed   int64  `json:"completed"`
	Failed      int64  `json:"failed"`
	Retried     int64  `json:"retried"`
	Cancelled   int64  `json:"cancelled"`
	Requeued    int64  `json:"requeued"`
	// MeanAttemptMS is the moving mean duration of recent attempts.
	MeanAttemptMS float64 `json:"mean_attempt_ms"`
}

var _ lifecycle.Component = (*Dispatcher)(nil)

// New returns a dispatcher over store and pool; it claims nothing until
// Start.
func New(store *sqlstore.Store, pool Pool, cfg Config) (*Dispatcher, error) {
	if store == nil {
		return nil, errors.New("dispatcher.New: nil store: pass the opened *sqlstore.Store")
	}
	if pool == nil {
		return nil, errors.New("dispatcher.New: nil pool: pass the worker pool (*pool.Pool)")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	contents := cfg.Contents
	if contents == nil {
		if contents, err = NewContents(store, 0); err != nil {
			return nil, err
		}
	}
	workers := max(pool.Size(), 1)
	d := &Dispatcher{
		cfg:       cfg,
		store:     store,
		pool:      pool,
		log:       cfg.Logger.With(slog.String("component", "dispatcher")),
		contents:  contents,
		workers:   workers,
		runs:      make(map[int64]*run),
		wake:      make(chan struct{}, 1),
		freed:     make(chan struct{}, 1),
		ready:     make(chan *run, workers+cfg.Prefetch+cfg.BatchSize),
		results:   make(chan *run, 4096),
		stopping:  make(chan struct{}),
		maintStop: make(chan struct{}),
		loopDone:  make(chan struct{}),
		completer: make(chan struct{}),
	}
	d.deliverCtx, d.deliverStop = context.WithCancel(context.Background())
	return d, nil
}

// Contents is the task content loader the dispatcher uses.
func (d *Dispatcher) Contents() *Contents { return d.contents }

// Node is the node name leases are held under.
func (d *Dispatcher) Node() string { return d.cfg.Node }

// Start takes back what a previous process of this node left running,
// reclaims expired leases, and starts claiming.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	switch d.state {
	case stateStarted:
		d.mu.Unlock()
		return lifecycle.ErrAlreadyStarted
	case stateStopping, stateStopped:
		d.mu.Unlock()
		return lifecycle.ErrStopped
	}
	d.state = stateStarted
	d.mu.Unlock()

	if err := d.recover(ctx); err != nil {
		d.mu.Lock()
		d.state = stateStopped
		d.mu.Unlock()
		return err
	}
	if d.cfg.Subscriber != nil {
		subCtx, cancel := context.WithCancel(context.Background())
		ch, unsub := d.cfg.Subscriber.Subscribe(subCtx, func(ev core.Event) bool {
			return ev.Type == core.EventJobQueued && ev.Job != nil
		})
		d.unsubscribe = func() { unsub(); cancel() }
		d.maint.Go(func() {
			for ev := range ch {
				d.WakeAt(ev.Job.ProcessAt)
			}
		})
	}
	for range d.workers {
		d.runners.Go(d.runner)
	}
	go d.complete()
	go d.loop()
	d.maint.Go(d.maintain)
	d.log.InfoContext(ctx, "dispatcher started", slog.String("node", d.cfg.Node),
		slog.Int("workers", d.workers), slog.Int("batch_size", d.cfg.BatchSize))
	return nil
}

// Wake makes the dispatcher look for ready jobs now. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// WakeAt tells the dispatcher that a job becomes ready at t (a delayed job
// or a retry); a time not in the future wakes it now.
func (d *Dispatcher) WakeAt(t time.Time) {
	if t.After(d.cfg.Now()) {
		d.mu.Lock()
		earlier := d.armedAt.IsZero() || t.Before(d.armedAt)
		if earlier && (d.nextAt.IsZero() || t.Before(d.nextAt)) {
			d.nextAt = t
		}
		d.mu.Unlock()
		if !earlier {
			// The loop's timer fires before t already; at that point it
			// looks at the queue again and finds this job.
			return
		}
	}
	d.Wake()
}

// CancelJob interrupts the attempt of job id running (or claimed) on this
// node; it reports whether there was one. The caller records the job's
// cancellation in the store first; the attempt's execution then ends
// cancelled.
func (d *Dispatcher) CancelJob(id int64) bool {
	d.mu.Lock()
	r, ok := d.runs[id]
	d.mu.Unlock()
	if !ok {
		return false
	}
	r.interrupt(reasonCancelled)
	return true
}

// Stats returns the dispatcher's counters.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Node:          d.cfg.Node,
		Workers:       d.workers,
		Outstanding:   d.outstanding.Load(),
		Running:       d.running.Load(),
		Claimed:       d.stats.claimed.Load(),
		Completed:     d.stats.completed.Load(),
		Failed:        d.stats.failed.Load(),
		Retried:       d.stats.retried.Load(),
		Cancelled:     d.stats.cancelled.Load(),
		Requeued:      d.stats.requeued.Load(),
		MeanAttemptMS: float64(d.avgNanos.Load()) / 1e6,
	}
}

// Stop drains: it stops claiming, requeues claimed jobs that have not
// started, and waits for running ones and pending deliveries until ctx
// ends; then it interrupts what still runs and requeues those jobs. It is
// idempotent and safe before Start.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.mu.Lock()
	switch d.state {
	case stateNew:
		d.state = stateStopped
		d.mu.Unlock()
		d.deliverStop()
		return nil
	case stateStopping, stateStopped:
		d.mu.Unlock()
		return nil
	}
	d.state = stateStopping
	d.mu.Unlock()

	close(d.stopping)
	if d.unsubscribe != nil {
		d.unsubscribe()
	}
	<-d.loopDone

	runnersDone := make(chan struct{})
	go func() { d.runners.Wait(); d.syncRuns.Wait(); close(runnersDone) }()
	var err error
	select {
	case <-runnersDone:
	case <-ctx.Done():
		err = fmt.Errorf("dispatcher drain cut short: %w", context.Cause(ctx))
		d.mu.Lock()
		left := make([]*run, 0, len(d.runs))
		for _, r := range d.runs {
			left = append(left, r)
		}
		d.mu.Unlock()
		for _, r := range left {
			r.interrupt(reasonShutdown)
		}
		d.log.Warn("shutdown deadline passed: interrupting running jobs to requeue them", slog.Int("jobs", len(left)))
		<-runnersDone
	}
	// Jobs claimed but never taken by a runner go back to the queue.
	for {
		select {
		case r := <-d.ready:
			r.notStarted = true
			d.results <- r
			continue
		default:
		}
		break
	}
	close(d.results)
	<-d.completer
	close(d.maintStop)
	d.maint.Wait()

	delivered := make(chan struct{})
	go func() { d.deliveries.Wait(); close(delivered) }()
	select {
	case <-delivered:
	case <-ctx.Done():
		d.deliverStop()
		<-delivered
		err = errors.Join(err, fmt.Errorf("output deliveries abandoned at shutdown: %w", context.Cause(ctx)))
	}
	d.deliverStop()
	d.mu.Lock()
	d.state = stateStopped
	d.mu.Unlock()
	d.log.Info("dispatcher stopped")
	return err
}

// Abandon stops the dispatcher without recording anything, as if the
// process died: jobs stay processing under this node's lease (tests of
// crash recovery use it). The pool must be killed separately.
func (d *Dispatcher) Abandon() {
	d.mu.Lock()
	if d.state != stateStarted {
		d.mu.Unlock()
		return
	}
	d.state = stateStopping
	left := make([]*run, 0, len(d.runs))
	for _, r := range d.runs {
		r.abandoned = true
		left = append(left, r)
	}
	d.mu.Unlock()
	close(d.stopping)
	if d.unsubscribe != nil {
		d.unsubscribe()
	}
	<-d.loopDone
	for _, r := range left {
		r.interrupt(reasonShutdown)
	}
	d.runners.Wait()
	for {
		select {
		case r := <-d.ready:
			r.abandoned = true
			d.results <- r
			continue
		default:
		}
		break
	}
	close(d.results)
	<-d.completer
	close(d.maintStop)
	d.maint.Wait()
	d.deliverStop()
	d.deliveries.Wait()
	d.mu.Lock()
	d.state = stateStopped
	d.mu.Unlock()
}

func (d *Dispatcher) isStopping() bool {
	select {
	case <-d.stopping:
		return true
	default:
		return false
	}
}

func (d *Dispatcher) publish(ctx context.Context, ev core.Event) {
	if d.cfg.Publisher != nil {
		ev.Node = d.cfg.Node
		d.cfg.Publisher.Publish(ctx, ev)
	}
}

// workerOf finds the id of the worker that ran an execution.
func (d *Dispatcher) workerOf(res worker.Result) string {
	if res.Err != nil {
		if id, ok := res.Err.Details["worker_id"].(string); ok {
			return id
		}
	}
	if res.Stats.PID == 0 {
		return ""
	}
	for _, w := range d.pool.Workers() {
		if w.PID == res.Stats.PID {
			return w.ID
		}
	}
	return ""
}

func execIDString(id int64) string { return strconv.FormatInt(id, 10) }
