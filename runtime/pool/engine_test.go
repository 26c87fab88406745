package pool_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/pool"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// These tests run real JavaScript in real worker processes: the test binary
// re-executed as a worker serving the engine.

func engineConfig(workers int) pool.Config {
	cfg := fakeConfig(workers)
	cfg.Command = testCommand("engine")
	return cfg
}

func jsRequest(code, input string) worker.Request {
	req := request(code, input)
	req.Task.Hash = worker.ContentHash(code)
	return req
}

const (
	jsEcho     = `function main(input, ctx) { return {echo: input, execution: ctx.executionId}; }`
	jsSpin     = `function main() { while (true) {} }`
	jsAllocate = `function main() { var keep = [], mb = "x".repeat(1 << 20); while (true) { keep.push(mb + keep.length); } }`
	jsBusy     = `function main(input) { var start = Date.now(); while (Date.now() - start < input.ms) {} return {start: start, end: Date.now()}; }`
)

func TestEngineExecute(t *testing.T) {
	t.Parallel()
	p := startPool(t, engineConfig(1))
	req := jsRequest(jsEcho, `{"a":1}`)
	res := mustExecute(t, p, req)
	wantOutput(t, res, `{"echo":{"a":1},"execution":"`+req.Context.ExecutionID+`"}`)

	logs := jsRequest(`function main() { console.log("hello", 1); throw new ValidationError("bad input"); }`, `null`)
	res = mustExecute(t, p, logs)
	wantKind(t, res, core.KindValidation)
	if len(res.Logs) != 1 || res.Logs[0].Message != "hello 1" {
		t.Errorf("logs = %+v, want one line \"hello 1\"", res.Logs)
	}
	compile := jsRequest(`function main( {`, `null`)
	wantKind(t, mustExecute(t, p, compile), core.KindCompile)
}

func TestEngineInfiniteLoopTimesOut(t *testing.T) {
	t.Parallel()
	p := startPool(t, engineConfig(2))
	spin := jsRequest(jsSpin, `null`)
	spin.Limits.Timeout = 300 * time.Millisecond
	done := make(chan worker.Result)
	go func() { done <- mustExecute(t, p, spin) }()
	for i := range 5 {
		res := mustExecute(t, p, jsRequest(jsEcho, strconv.Itoa(i)))
		if res.Err != nil {
			t.Fatalf("echo during the loop: %v", res.Err)
		}
	}
	res := <-done
	wantKind(t, res, core.KindTimeout)
	if res.Stats.PID == 0 {
		t.Errorf("the engine should have interrupted the loop itself, without a kill: %v", res.Err)
	}
	if res := mustExecute(t, p, jsRequest(jsEcho, `1`)); res.Err != nil {
		t.Fatal(res.Err)
	}
}

func TestEngineUnboundedAllocation(t *testing.T) {
	t.Parallel()
	cfg := engineConfig(1)
	cfg.MemoryLimitMB = 96
	p := startPool(t, cfg)
	res := mustExecute(t, p, jsRequest(jsAllocate, `null`))
	wantKind(t, res, core.KindMemoryLimit, core.KindWorkerCrash)
	t.Logf("unbounded allocation ended as %v", res.Err)
	if res := mustExecute(t, p, jsRequest(jsEcho, `1`)); res.Err != nil {
		t.Fatal(res.Err)
	}
}

func TestEngineKill9(t *testing.T) {
	// Not parallel: it times the replacement.
	testKill9(t, engineConfig(2), jsRequest(jsSpin, `null`), func(i int) worker.Request {
		return jsRequest(jsEcho, strconv.Itoa(i))
	})
}

func TestEngineParallel(t *testing.T) {
	t.Parallel()
	const n = 2
	p := startPool(t, engineConfig(n))
	type span struct{ Start, End int64 }
	spans := make([]span, n)
	pids := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := mustExecute(t, p, jsRequest(jsBusy, `{"ms":400}`))
			if res.Err != nil {
				t.Errorf("busy: %v", res.Err)
				return
			}
			pids[i] = res.Stats.PID
			if err := json.Unmarshal(res.Output, &spans[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var latestStart, earliestEnd int64 = 0, 1<<63 - 1
	for _, s := range spans {
		latestStart = max(latestStart, s.Start)
		earliestEnd = min(earliestEnd, s.End)
	}
	if latestStart >= earliestEnd {
		t.Errorf("executions did not overlap: %+v", spans)
	}
	if pids[0] == pids[1] {
		t.Errorf("both executions ran in worker %d", pids[0])
	}
}

func TestEngineDeafTaskIsKilled(t *testing.T) {
	t.Parallel()
	// goja checks for interruption between instructions, not inside a
	// regular expression match: catastrophic backtracking is deaf to it.
	p := startPool(t, engineConfig(1))
	req := jsRequest(`function main() { return /^(a+)+(?=!)$/.test("a".repeat(40) + "!"); }`, `null`)
	req.Limits.Timeout = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := p.Execute(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, res, core.KindTimeout)
	t.Logf("deaf task ended as %v", res.Err)
	if res := mustExecute(t, p, jsRequest(jsEcho, `1`)); res.Err != nil {
		t.Fatal(res.Err)
	}
}

func TestEngineOSMemoryLimit(t *testing.T) {
	t.Parallel()
	if raceEnabled {
		t.Skip("the race detector's shadow memory rules out an OS memory limit, so workers set none")
	}
	// One allocation far beyond the limit, made by a single native call,
	// outruns the watchdog: the OS limit ends the worker instead.
	cfg := engineConfig(1)
	cfg.MemoryLimitMB = 64
	p := startPool(t, cfg)
	res := mustExecute(t, p, jsRequest(`function main() { return "x".repeat(1 << 29).length; }`, `null`))
	wantKind(t, res, core.KindWorkerCrash, core.KindMemoryLimit)
	t.Logf("huge allocation ended as %v", res.Err)
	if res := mustExecute(t, p, jsRequest(jsEcho, `1`)); res.Err != nil {
		t.Fatal(res.Err)
	}
}
