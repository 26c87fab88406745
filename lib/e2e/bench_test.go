package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/service"
)

// The benchmarks drive the service API of a real app: SQLite in WAL mode
// with synchronous=NORMAL, two worker processes, a trivial JS task. Run:
//
//	go test -run x -bench . -benchtime 1x ./e2e   (burn-down: 1x)
//
// RATCHET_BENCH_JOBS sets the burn-down size (default 20000).

const jsTrivial = `function main(input) { return {sum: input.a + input.b}; }`

func benchEnv(b testing.TB) *env {
	b.Helper()
	e := newEnv(b, "", workers(2), func(c *config.Config, o *app.Options) {
		c.Server.JobQueue.MaxQueueSize = 10_000_000
		if os.Getenv("RATCHET_BENCH_NOPOLL") != "" {
			o.Dispatcher.PollInterval, o.Dispatcher.ReclaimEvery = -1, -1
		}
	})
	e.task("trivial", jsTrivial, "")
	// Warm the workers (the code crosses once per worker).
	for range 8 {
		if _, err := e.svc.Tasks().Execute(context.Background(), "trivial", service.ExecuteTask{Input: json.RawMessage(`{"a":1,"b":2}`)}); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func report(b *testing.B, name string, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(float64(len(d)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), name+"-p50-ms")
	b.ReportMetric(q(0.95), name+"-p95-ms")
	b.ReportMetric(q(0.99), name+"-p99-ms")
}

// BenchmarkEnqueueSingle: one job per call (delayed, so nothing runs).
func BenchmarkEnqueueSingle(b *testing.B) {
	e := benchEnv(b)
	later := time.Now().Add(time.Hour)
	ctx := context.Background()
	in := json.RawMessage(`{"a":1,"b":2}`)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, _, err := e.svc.Jobs().Create(ctx, service.CreateJob{TaskRef: "trivial", Input: in, ProcessAt: later}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}

// BenchmarkEnqueueBatch: batches of 1000 jobs.
func BenchmarkEnqueueBatch(b *testing.B) {
	e := benchEnv(b)
	later := time.Now().Add(time.Hour)
	ctx := context.Background()
	reqs := make([]service.CreateJob, 1000)
	for i := range reqs {
		reqs[i] = service.CreateJob{TaskRef: "trivial", Input: json.RawMessage(`{"a":1,"b":2}`), ProcessAt: later}
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := e.svc.Jobs().CreateBatch(ctx, reqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(reqs))/time.Since(start).Seconds(), "jobs/s")
}

// BenchmarkBurnDown: N queued trivial jobs through two worker processes,
// every execution persisted; jobs/s from when they become ready to the
// last completion.
func BenchmarkBurnDown(b *testing.B) {
	n := 20000
	if s := os.Getenv("RATCHET_BENCH_JOBS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	e := benchEnv(b)
	ctx := context.Background()
	for b.Loop() {
		done, cancel := e.app.Bus().SubscribeBuffered(ctx, func(ev core.Event) bool {
			return ev.Type == core.EventJobCompleted
		}, n+10)
		readyAt := time.Now().Add(time.Duration(n/20000+1) * 2 * time.Second)
		reqs := make([]service.CreateJob, 1000)
		for i := range reqs {
			reqs[i] = service.CreateJob{TaskRef: "trivial", Input: json.RawMessage(`{"a":1,"b":2}`), ProcessAt: readyAt}
		}
		for i := 0; i < n; i += len(reqs) {
			if _, err := e.svc.Jobs().CreateBatch(ctx, reqs[:min(len(reqs), n-i)]); err != nil {
				b.Fatal(err)
			}
		}
		if time.Now().After(readyAt) {
			b.Fatal("enqueueing took longer than the delay; raise it")
		}
		got := 0
		timeout := time.After(5 * time.Minute)
		for got < n {
			select {
			case <-done:
				got++
			case <-timeout:
				b.Fatalf("only %d of %d jobs completed", got, n)
			}
		}
		elapsed := time.Since(readyAt)
		cancel()
		b.ReportMetric(float64(n)/elapsed.Seconds(), "jobs/s")
		st := e.app.Dispatcher().Stats()
		b.ReportMetric(st.MeanAttemptMS, "attempt-ms")
	}
}

// BenchmarkLatency: single jobs enqueued one at a time on an idle server;
// enqueue→start (job.started) and enqueue→completed (job.completed).
func BenchmarkLatency(b *testing.B) {
	e := benchEnv(b)
	ctx := context.Background()
	events, cancel := e.app.Bus().SubscribeBuffered(ctx, func(ev core.Event) bool {
		return ev.Type == core.EventJobStarted || ev.Type == core.EventJobCompleted
	}, 1024)
	defer cancel()
	var toStart, toDone []time.Duration
	in := json.RawMessage(`{"a":1,"b":2}`)
	for b.Loop() {
		t0 := time.Now()
		job, _, err := e.svc.Jobs().Create(ctx, service.CreateJob{TaskRef: "trivial", Input: in})
		if err != nil {
			b.Fatal(err)
		}
		for finished := false; !finished; {
			ev := <-events
			if ev.Job.ID != job.ID {
				continue
			}
			switch ev.Type {
			case core.EventJobStarted:
				toStart = append(toStart, time.Since(t0))
			case core.EventJobCompleted:
				toDone = append(toDone, time.Since(t0))
				finished = true
			}
		}
		time.Sleep(2 * time.Millisecond) // idle between jobs
	}
	report(b, "start", toStart)
	report(b, "done", toDone)
}

// BenchmarkSyncExecute: POST /tasks/{id}/execute's path, one at a time.
func BenchmarkSyncExecute(b *testing.B) {
	e := benchEnv(b)
	ctx := context.Background()
	in := json.RawMessage(`{"a":1,"b":2}`)
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		res, err := e.svc.Tasks().Execute(ctx, "trivial", service.ExecuteTask{Input: in})
		if err != nil || res.Execution.Status != core.ExecutionCompleted {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	report(b, "exec", lat)
}

// BenchmarkSyncExecuteParallel: concurrent synchronous executes.
func BenchmarkSyncExecuteParallel(b *testing.B) {
	e := benchEnv(b)
	ctx := context.Background()
	in := json.RawMessage(`{"a":1,"b":2}`)
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if _, err := e.svc.Tasks().Execute(ctx, "trivial", service.ExecuteTask{Input: in}); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "execs/s")
	report(b, "exec", lat)
}
