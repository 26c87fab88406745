package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/ratchet-go/ratchet/runtime/jsform"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
)

func benchTask(b *testing.B) TaskSpec {
	t, err := taskfmt.Load("../../docs/examples/tasks/addition")
	if err != nil {
		b.Fatal(err)
	}
	return SpecOf(t)
}

// BenchmarkCompile normalises and compiles a main.js (the weather example).
func BenchmarkCompile(b *testing.B) {
	code, err := os.ReadFile("../../docs/examples/tasks/weather-api/main.js")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jsform.Compile("main.js", string(code)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteFirstRun is an execution of a task version the engine has
// not seen: compile, schemas, a new runtime, the call.
func BenchmarkExecuteFirstRun(b *testing.B) {
	e := newEngine(b, Config{CacheSize: 1})
	spec := benchTask(b)
	input := json.RawMessage(`{"num1": 1, "num2": 2}`)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		spec.Checksum = fmt.Sprint("v", i)
		if r := e.Execute(ctx, Request{Task: spec, Input: input}); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkExecuteWarm is an execution of a cached task version: a new
// runtime with the host APIs, the program run, input and output validated.
func BenchmarkExecuteWarm(b *testing.B) {
	e := newEngine(b, Config{})
	spec := benchTask(b)
	input := json.RawMessage(`{"num1": 1, "num2": 2}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := e.Execute(ctx, Request{Task: spec, Input: input}); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkExecuteWarmNoSchemas is the same without schema validation.
func BenchmarkExecuteWarmNoSchemas(b *testing.B) {
	e := newEngine(b, Config{SkipSchemaValidation: true})
	spec := benchTask(b)
	input := json.RawMessage(`{"num1": 1, "num2": 2}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := e.Execute(ctx, Request{Task: spec, Input: input}); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkExecuteParallel runs warm executions on every core.
func BenchmarkExecuteParallel(b *testing.B) {
	e := newEngine(b, Config{})
	spec := benchTask(b)
	input := json.RawMessage(`{"num1": 1, "num2": 2}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := e.Execute(context.Background(), Request{Task: spec, Input: input}); r.Err != nil {
				b.Error(r.Err)
				return
			}
		}
	})
}
