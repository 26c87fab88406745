package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/core"
)

// Polling of the server while jobs run.
const (
	burnDownPoll    = 100 * time.Millisecond
	latencyPollMin  = time.Millisecond
	latencyPollMax  = 20 * time.Millisecond
	progressEvery   = 500 * time.Millisecond
	progressQuietly = time.Second // no progress lines for runs shorter than this
)

// benchRun is one run of ratchet bench.
type benchRun struct {
	app    *App
	t      *benchTarget
	o      benchOptions
	task   string
	input  json.RawMessage
	report *benchReport
}

// runBench checks the task with one synchronous execution (which also
// warms a worker up), then runs the mode.
func runBench(ctx context.Context, app *App, t *benchTarget, o benchOptions) (*benchReport, error) {
	task, err := t.findTask(ctx, o.task)
	if err != nil {
		return nil, err
	}
	b := &benchRun{app: app, t: t, o: o, task: task, input: json.RawMessage(o.input),
		report: &benchReport{
			Mode: o.mode, Server: t.server, Local: t.local != nil, Task: task,
			Jobs: o.jobs, Concurrency: o.concurrency, ClientCPUs: runtime.NumCPU(),
			StartedAt: time.Now().UTC().Truncate(time.Millisecond),
			Phases:    []benchPhase{}, Latencies: []latencySummary{}, Notes: []string{},
		}}
	if t.local != nil {
		b.report.Workers = t.local.workers
	}
	if err := t.call(ctx, func(ctx context.Context) error {
		_, err := t.client.ExecuteTask(ctx, task, apitypes.ExecuteRequest{Input: b.input})
		return err
	}); err != nil {
		return nil, fmt.Errorf("the warm-up execution of %s failed; bench a --task and --input that succeed: %w", task, err)
	}
	switch o.mode {
	case benchBurnDown:
		err = b.burnDown(ctx)
	case benchLatency:
		err = b.latency(ctx)
	case benchSync:
		err = b.sync(ctx)
	case benchEnqueue:
		err = b.enqueue(ctx)
	}
	if err != nil {
		return nil, err
	}
	return b.report, nil
}

// jobRequest is the job every mode queues: the task on the input, no
// retries, due at processAt (now when nil).
func (b *benchRun) jobRequest(processAt *time.Time) apitypes.CreateJobRequest {
	noRetries := 0
	return apitypes.CreateJobRequest{TaskID: apitypes.TaskRef(b.task), Input: b.input,
		MaxRetries: &noRetries, ProcessAt: processAt}
}

// enqueueAll queues n jobs from the configured callers and returns their
// ids in order, with the phase's measure and each call's latency.
func (b *benchRun) enqueueAll(ctx context.Context, processAt *time.Time, phase string) ([]int64, benchPhase, []time.Duration, error) {
	n := b.o.jobs
	ids := make([]int64, n)
	lat := make([]time.Duration, n)
	var done atomic.Int64
	stop := b.track(phase, n, &done)
	start := time.Now()
	err := fanOut(ctx, n, b.o.concurrency, func(ctx context.Context, i int) error {
		req := b.jobRequest(processAt)
		t0 := time.Now()
		err := b.t.call(ctx, func(ctx context.Context) error {
			job, err := b.t.client.CreateJob(ctx, req)
			if err == nil {
				ids[i] = job.ID
			}
			return err
		})
		if err != nil {
			return b.loadError(fmt.Sprintf("queueing job %d of %d", i+1, n), err)
		}
		lat[i] = time.Since(t0)
		done.Add(1)
		return nil
	})
	elapsed := time.Since(start)
	stop()
	if err != nil {
		return nil, benchPhase{}, nil, err
	}
	return ids, newPhase(phase, n, elapsed), lat, nil
}

// burnDown queues every job due at one moment after they are all queued,
// then waits for the last to finish. The rate is the server's: from the
// first start to the last completion it recorded.
func (b *benchRun) burnDown(ctx context.Context) error {
	release := time.Now().Add(b.o.hold).UTC()
	ids, enq, lat, err := b.enqueueAll(ctx, &release, "enqueue")
	if err != nil {
		return err
	}
	b.report.Phases = append(b.report.Phases, enq)
	b.report.Latencies = append(b.report.Latencies, summarise("enqueue_call", lat))
	if time.Now().After(release) {
		b.report.note("queueing took longer than --hold %s: the workers started before the queue was full; raise --hold", b.o.hold)
	}

	jobs, err := b.waitAll(ctx, ids)
	if err != nil {
		return err
	}
	var (
		first, last     time.Time
		wait, run       []time.Duration
		succeeded, fail int
	)
	for _, j := range jobs {
		if j.Status == core.JobCompleted {
			succeeded++
		} else {
			fail++
		}
		if j.StartedAt == nil || j.CompletedAt == nil {
			continue
		}
		if first.IsZero() || j.StartedAt.Before(first) {
			first = *j.StartedAt
		}
		if j.CompletedAt.After(last) {
			last = *j.CompletedAt
		}
		wait = append(wait, j.StartedAt.Sub(j.ProcessAt))
		run = append(run, j.CompletedAt.Sub(*j.StartedAt))
	}
	drain := last.Sub(first)
	b.report.Succeeded, b.report.Failed = succeeded, fail
	b.report.Phases = append(b.report.Phases, newPhase("drain", len(jobs), drain))
	b.report.DurationSeconds = drain.Seconds()
	b.report.Throughput = perSecond(len(jobs), drain)
	b.report.Latencies = append(b.report.Latencies, summarise("due_to_started", wait), summarise("started_to_completed", run))
	b.report.Unit = "jobs/s"
	return nil
}

// waitAll waits until every job of ids is finished (completed, failed or
// cancelled) and returns them. It counts the finished jobs in the id range
// cheaply while they run, and reads them all once the count is reached.
func (b *benchRun) waitAll(ctx context.Context, ids []int64) ([]apitypes.Job, error) {
	lo, hi := slices.Min(ids), slices.Max(ids)
	mine := make(map[int64]bool, len(ids))
	for _, id := range ids {
		mine[id] = true
	}
	rangeFilter := func() map[string][]string {
		return map[string][]string{"id_gte": {strconv.FormatInt(lo, 10)}, "id_lte": {strconv.FormatInt(hi, 10)}}
	}
	var done atomic.Int64
	stop := b.track("finished", len(ids), &done)
	defer stop()
	tick := time.NewTicker(burnDownPoll)
	defer tick.Stop()
	for {
		filters := rangeFilter()
		filters["status"] = []string{string(core.JobCompleted), string(core.JobFailed), string(core.JobCancelled)}
		var finished int
		if err := b.t.call(ctx, func(ctx context.Context) (err error) {
			_, finished, err = b.t.client.ListJobs(ctx, client.ListOptions{End: 1, Filters: filters})
			return err
		}); err != nil {
			return nil, err
		}
		done.Store(int64(min(finished, len(ids))))
		if finished >= len(ids) {
			// Other jobs may share the id range: check ours.
			jobs, err := b.readJobs(ctx, rangeFilter(), mine)
			if err != nil {
				return nil, err
			}
			if len(jobs) == len(ids) && !slices.ContainsFunc(jobs, func(j apitypes.Job) bool { return !j.Status.Terminal() }) {
				return jobs, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d jobs finished: %w", done.Load(), len(ids), runEnded(ctx))
		case <-tick.C:
		}
	}
}

// readJobs reads the jobs that filters select, a page at a time, and keeps
// those in keep.
func (b *benchRun) readJobs(ctx context.Context, filters map[string][]string, keep map[int64]bool) ([]apitypes.Job, error) {
	var out []apitypes.Job
	for start := 0; ; start += core.MaxPageSize {
		var (
			page  []apitypes.Job
			total int
		)
		if err := b.t.call(ctx, func(ctx context.Context) (err error) {
			page, total, err = b.t.client.ListJobs(ctx, client.ListOptions{
				Start: start, End: start + core.MaxPageSize, Sort: "id", Order: "asc", Filters: filters})
			return err
		}); err != nil {
			return nil, err
		}
		for _, j := range page {
			if keep[j.ID] {
				out = append(out, j)
			}
		}
		if len(page) == 0 || start+len(page) >= total {
			return out, nil
		}
	}
}

// latency queues one job at a time and waits for it, on an otherwise idle
// server, and reports the server's enqueue→started and enqueue→completed.
func (b *benchRun) latency(ctx context.Context) error {
	n := b.o.jobs
	var (
		toStart, toDone, call []time.Duration
		succeeded, failed     int
		done                  atomic.Int64
	)
	stop := b.track("latency", n, &done)
	defer stop()
	start := time.Now()
	for i := range n {
		if ctx.Err() != nil {
			return fmt.Errorf("%d of %d jobs measured: %w", i, n, runEnded(ctx))
		}
		t0 := time.Now()
		var job *apitypes.Job
		if err := b.t.call(ctx, func(ctx context.Context) (err error) {
			job, err = b.t.client.CreateJob(ctx, b.jobRequest(nil))
			return err
		}); err != nil {
			return b.loadError(fmt.Sprintf("queueing job %d of %d", i+1, n), err)
		}
		call = append(call, time.Since(t0))
		job, err := b.waitJob(ctx, job.ID)
		if err != nil {
			return err
		}
		if job.Status == core.JobCompleted {
			succeeded++
		} else {
			failed++
		}
		if job.StartedAt != nil {
			toStart = append(toStart, job.StartedAt.Sub(job.CreatedAt))
		}
		if job.CompletedAt != nil {
			toDone = append(toDone, job.CompletedAt.Sub(job.CreatedAt))
		}
		done.Add(1)
	}
	elapsed := time.Since(start)
	b.report.Succeeded, b.report.Failed = succeeded, failed
	b.report.DurationSeconds = elapsed.Seconds()
	b.report.Throughput = perSecond(n, elapsed)
	b.report.Unit = "jobs/s"
	b.report.Phases = append(b.report.Phases, newPhase("jobs", n, elapsed))
	b.report.Latencies = append(b.report.Latencies,
		summarise("enqueue_to_started", toStart), summarise("enqueue_to_completed", toDone), summarise("enqueue_call", call))
	if b.o.concurrency != 1 {
		b.report.note("latency mode runs one job at a time")
	}
	return nil
}

// waitJob polls job id until it is finished, quickly at first.
func (b *benchRun) waitJob(ctx context.Context, id int64) (*apitypes.Job, error) {
	deadline := time.Now().Add(benchJobTimeout)
	delay := latencyPollMin
	for {
		var job *apitypes.Job
		if err := b.t.call(ctx, func(ctx context.Context) (err error) {
			job, err = b.t.client.GetJob(ctx, id)
			return err
		}); err != nil {
			return nil, err
		}
		if job.Status.Terminal() {
			return job, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("job %d did not finish within %s (status %s): are the server's workers busy?", id, benchJobTimeout, job.Status)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for job %d: %w", id, runEnded(ctx))
		case <-time.After(delay):
		}
		delay = min(2*delay, latencyPollMax)
	}
}

// sync runs synchronous executions from the configured callers and
// measures each round trip.
func (b *benchRun) sync(ctx context.Context) error {
	n := b.o.jobs
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	var done atomic.Int64
	stop := b.track("executing", n, &done)
	start := time.Now()
	var firstFailure sync.Once
	err := fanOut(ctx, n, b.o.concurrency, func(ctx context.Context, i int) error {
		t0 := time.Now()
		err := b.t.call(ctx, func(ctx context.Context) error {
			_, err := b.t.client.ExecuteTask(ctx, b.task, apitypes.ExecuteRequest{Input: b.input})
			return err
		})
		lat[i] = time.Since(t0)
		done.Add(1)
		var ae *client.APIError
		if errors.As(err, &ae) {
			if _, failed := ae.ExecutionID(); failed {
				// The task failed: counted, not fatal.
				firstFailure.Do(func() { b.report.note("first failed execution: %s", errorText(ae.Type, ae.Message)) })
				return nil
			}
		}
		if err != nil {
			return b.loadError(fmt.Sprintf("execution %d of %d", i+1, n), err)
		}
		ok[i] = true
		return nil
	})
	elapsed := time.Since(start)
	stop()
	if err != nil {
		return err
	}
	var good []time.Duration
	for i, d := range lat {
		if ok[i] {
			good = append(good, d)
		}
	}
	b.report.Succeeded, b.report.Failed = len(good), n-len(good)
	b.report.DurationSeconds = elapsed.Seconds()
	b.report.Throughput = perSecond(n, elapsed)
	b.report.Unit = "executions/s"
	b.report.Phases = append(b.report.Phases, newPhase("execute", n, elapsed))
	b.report.Latencies = append(b.report.Latencies, summarise("execute_call", good))
	return nil
}

// enqueue queues single jobs from the configured callers.
func (b *benchRun) enqueue(ctx context.Context) error {
	_, phase, lat, err := b.enqueueAll(ctx, nil, "enqueue")
	if err != nil {
		return err
	}
	b.report.Succeeded = b.o.jobs
	b.report.DurationSeconds = phase.Seconds
	b.report.Throughput = phase.PerSecond
	b.report.Unit = "jobs/s"
	b.report.Phases = append(b.report.Phases, phase)
	b.report.Latencies = append(b.report.Latencies, summarise("enqueue_call", lat))
	b.report.note("the %d queued jobs run on the server after the measure", b.o.jobs)
	return nil
}

// loadError explains an error answer that stops a run: what was being
// done, and for a 429 which limit the server applied.
func (b *benchRun) loadError(what string, err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
		return fmt.Errorf("%s: %w\n  hint: the server refused the load; raise or disable server.rate_limit, "+
			"raise server.job_queue.max_queue_size, or lower --jobs/--concurrency", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// fanOut runs fn for every index below n on c goroutines. The first error
// stops the others and is returned; so is the end of ctx.
func fanOut(ctx context.Context, n, c int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(c, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// track shows "<phase>: done/total" on stderr every half second while a
// phase runs, once it has run for a second; stop ends it.
func (b *benchRun) track(phase string, total int, done *atomic.Int64) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		p := newProgress(b.app.Stderr)
		start := time.Now()
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		show := func() {
			n := done.Load()
			elapsed := time.Since(start)
			line := fmt.Sprintf("%s: %d/%d (%s)", phase, n, total, elapsed.Round(100*time.Millisecond))
			// Off a terminal, a line per quarter.
			p.update(line, strconv.Itoa(int(4*n/int64(max(total, 1)))))
		}
		for {
			select {
			case <-quit:
				if p.drew || p.last != "" {
					show()
				}
				p.end()
				return
			case <-tick.C:
				if time.Since(start) >= progressQuietly {
					show()
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-finished
		})
	}
}
