package pool_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/pool"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// envWorker makes the test binary a worker process: "fake" serves the
// fakeExecutor below, "engine" the real JavaScript engine.
const envWorker = "RATCHET_POOL_TEST_WORKER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(envWorker); mode != "" {
		var exec worker.Executor
		if mode == "fake" {
			exec = fakeExecutor{}
		}
		if err := worker.Serve(worker.ServeConfig{Executor: exec}); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(envHost) != "" {
		runHost()
		return
	}
	goleak.VerifyTestMain(m)
}

// envHost makes the test binary a host: it starts a pool of fake workers,
// prints their pids and waits to be killed (TestWorkersDieWithHost).
const envHost = "RATCHET_POOL_TEST_HOST"

func runHost() {
	p, err := pool.New(pool.Config{WorkerCount: 2, HealthCheckInterval: -1, Command: testCommand("fake")})
	if err == nil {
		err = p.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var pids []int
	for _, w := range p.Workers() {
		pids = append(pids, w.PID)
	}
	b, _ := json.Marshal(pids)
	fmt.Println(string(b))
	select {}
}

// fakeExecutor tests the pool's mechanics without the JavaScript engine.
// A task's code is "op" or "op:arg":
//
//	echo          output = input
//	spin          busy until interrupted (like while(true){} in goja)
//	hang          busy forever, deaf to interruption
//	alloc         allocates without bound, checking for interruption
//	busy:MS       busy-waits MS milliseconds, answers {start, end, pid} (ns)
//	env:NAME      answers {"set": bool, "value": string} for NAME
//	pid           answers the process id
//	crash         exits the process
type fakeExecutor struct{}

func (fakeExecutor) Execute(ctx context.Context, req worker.Request) worker.Result {
	op, arg, _ := strings.Cut(req.Task.Code, ":")
	start := time.Now()
	res := func(v any) worker.Result {
		b, _ := json.Marshal(v)
		return worker.Result{Output: b, Duration: time.Since(start)}
	}
	interrupted := func() worker.Result {
		if e, ok := context.Cause(ctx).(*core.Error); ok {
			return worker.Result{Err: e, Duration: time.Since(start)}
		}
		return worker.Result{Err: core.WrapError(core.KindCancelled, context.Cause(ctx), "interrupted")}
	}
	switch op {
	case "echo":
		return worker.Result{Output: req.Input, Duration: time.Since(start)}
	case "spin":
		for ctx.Err() == nil {
			spinABit()
		}
		return interrupted()
	case "hang":
		for {
			spinABit()
		}
	case "alloc":
		var keep [][]byte
		for ctx.Err() == nil {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = byte(i)
			}
			keep = append(keep, b)
		}
		_ = len(keep)
		return interrupted()
	case "busy":
		ms, _ := strconv.Atoi(arg)
		end := start.Add(time.Duration(ms) * time.Millisecond)
		for time.Now().Before(end) && ctx.Err() == nil {
			spinABit()
		}
		return res(map[string]int64{"start": start.UnixNano(), "end": time.Now().UnixNano(), "pid": int64(os.Getpid())})
	case "env":
		v, ok := os.LookupEnv(arg)
		return res(map[string]any{"set": ok, "value": v})
	case "pid":
		return res(os.Getpid())
	case "crash":
		os.Exit(3)
	}
	return worker.Result{Err: core.Errorf(core.KindRuntime, "unknown fake op %q", op)}
}

var sink int

func spinABit() {
	for i := range 1000 {
		sink += i
	}
}
