package pool_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/pool"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// The benchmarks run a trivial task: in process on the engine, and through
// the pool in real worker processes. p50-µs and p99-µs are per-execution
// latencies; compare the pool's p50 with the engine's for the overhead of
// isolation.

const jsTrivial = `function main(input) { return {sum: input.a + input.b}; }`

func benchRequest() worker.Request {
	req := jsRequest(jsTrivial, `{"a":1,"b":2}`)
	req.Context.ExecutionID = "" // no cancel bookkeeping needed
	return req
}

func benchPool(b *testing.B, workers int) *pool.Pool {
	b.Helper()
	cfg := engineConfig(workers)
	cfg.AcquireTimeout = time.Minute
	p := startPool(b, cfg)
	// Warm every worker: the content crosses once per worker.
	var wg sync.WaitGroup
	for range workers * 4 {
		wg.Go(func() {
			if res, err := p.Execute(context.Background(), benchRequest()); err != nil || res.Err != nil {
				b.Errorf("warm-up: %v %v", err, res.Err)
			}
		})
	}
	wg.Wait()
	return p
}

// latencies collects per-operation durations across goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d ...time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	q := func(p float64) float64 {
		return float64(l.d[int(float64(len(l.d)-1)*p)].Nanoseconds()) / 1e3
	}
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

func BenchmarkInProcess(b *testing.B) {
	eng, err := engine.New(engine.Config{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest()
	ereq := engine.Request{
		Task:  engine.TaskSpec{Checksum: req.Task.Hash, Name: "t", Code: req.Task.Code},
		Input: req.Input,
	}
	ctx := context.Background()
	var lat latencies
	local := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if res := eng.Execute(ctx, ereq); res.Err != nil {
			b.Fatal(res.Err)
		}
		local = append(local, time.Since(start))
	}
	lat.add(local...)
	lat.report(b)
}

// BenchmarkPoolSerial: one execution at a time through a pool of two
// workers.
func BenchmarkPoolSerial(b *testing.B) {
	p := benchPool(b, 2)
	req := benchRequest()
	ctx := context.Background()
	var lat latencies
	local := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		res, err := p.Execute(ctx, req)
		if err != nil || res.Err != nil {
			b.Fatal(err, res.Err)
		}
		local = append(local, time.Since(start))
	}
	lat.add(local...)
	lat.report(b)
}

// BenchmarkPoolThroughput keeps every worker busy (twice as many callers
// as workers) and reports executions per second.
func BenchmarkPoolThroughput(b *testing.B) {
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			p := benchPool(b, workers)
			req := benchRequest()
			var lat latencies
			// RunParallel starts SetParallelism × GOMAXPROCS callers.
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((2*workers + procs - 1) / procs)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				var local []time.Duration
				for pb.Next() {
					t0 := time.Now()
					res, err := p.Execute(ctx, req)
					if err != nil || res.Err != nil {
						b.Error(err, res.Err)
						return
					}
					local = append(local, time.Since(t0))
				}
				lat.add(local...)
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "execs/s")
			lat.report(b)
		})
	}
}
