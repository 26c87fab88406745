package command

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestBenchLocal runs every mode against an in-process server (whose
// worker processes are this test binary, see TestMain) and checks that the
// report is complete and consistent. It asserts no timings.
func TestBenchLocal(t *testing.T) {
	t.Parallel()
	wantLatencies := map[string][]string{
		benchBurnDown: {"enqueue_call", "due_to_started", "started_to_completed"},
		benchLatency:  {"enqueue_to_started", "enqueue_to_completed", "enqueue_call"},
		benchSync:     {"execute_call"},
		benchEnqueue:  {"enqueue_call"},
	}
	for _, mode := range benchModes {
		t.Run(mode, func(t *testing.T) {
			r := run(t, "", "bench", "--local", "--jobs", "50", "--concurrency", "4", "--mode", mode, "-o", "json")
			if r.code != 0 {
				t.Fatal(r)
			}
			var rep benchReport
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rep); err != nil {
				t.Fatalf("bench -o json: %v\n%s", err, r.stdout)
			}
			wantConcurrency := 4
			if mode == benchLatency {
				wantConcurrency = 1
			}
			if rep.Mode != mode || !rep.Local || rep.Task != "addition" || rep.Jobs != 50 ||
				rep.Concurrency != wantConcurrency || !strings.HasPrefix(rep.Server, "http://127.0.0.1:") {
				t.Errorf("report header: %+v", rep)
			}
			if rep.Succeeded != 50 || rep.Failed != 0 {
				t.Errorf("succeeded %d, failed %d; want 50 and 0", rep.Succeeded, rep.Failed)
			}
			if rep.Workers < 1 || rep.ClientCPUs < 1 || rep.StartedAt.IsZero() || rep.Unit == "" {
				t.Errorf("workers %d, client cpus %d, started %s, unit %q", rep.Workers, rep.ClientCPUs, rep.StartedAt, rep.Unit)
			}
			if rep.DurationSeconds <= 0 || rep.Throughput <= 0 {
				t.Errorf("duration %v s, throughput %v", rep.DurationSeconds, rep.Throughput)
			}
			if len(rep.Phases) == 0 {
				t.Error("no phases")
			}
			for _, p := range rep.Phases {
				if p.Jobs != 50 || p.Seconds < 0 || p.PerSecond < 0 {
					t.Errorf("phase %+v", p)
				}
			}
			var names []string
			for _, l := range rep.Latencies {
				names = append(names, l.Name)
				if l.Count != 50 {
					t.Errorf("%s: count %d, want 50", l.Name, l.Count)
				}
				if !(0 <= l.Min && l.Min <= l.P50 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) || l.Mean < l.Min || l.Mean > l.Max {
					t.Errorf("%s: inconsistent distribution %+v", l.Name, l)
				}
			}
			if strings.Join(names, ",") != strings.Join(wantLatencies[mode], ",") {
				t.Errorf("latencies %v, want %v", names, wantLatencies[mode])
			}
		})
	}
}

func TestBenchLocalTable(t *testing.T) {
	t.Parallel()
	r := run(t, "", "bench", "--local", "--jobs", "20", "--mode", "sync")
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{"Mode:", "sync", "Throughput:", "executions/s", "20 (20 succeeded, 0 failed)",
		"LATENCY (ms)", "P50", "P95", "P99", "execute_call", "local: "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestBenchErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--local", "--server", "http://x"}, ExitUsage, "none of the others can be"},
		{[]string{"--mode", "fast"}, ExitUsage, `invalid --mode "fast"`},
		{[]string{"--jobs", "0"}, ExitUsage, "invalid --jobs 0"},
		{[]string{"--concurrency", "0"}, ExitUsage, "invalid --concurrency 0"},
		{[]string{"--timeout", "0s"}, ExitUsage, "invalid --timeout"},
		{[]string{"--hold", "-1s"}, ExitUsage, "invalid --hold"},
		{[]string{"--input", "{nope"}, ExitUsage, "invalid --input"},
		{[]string{"--task", " "}, ExitUsage, "invalid --task"},
		{[]string{"-o", "yaml"}, ExitUsage, `invalid --output "yaml"`},
		{[]string{"--server", "ftp://x"}, ExitUsage, "invalid --server"},
		{[]string{"--server", unreachable(t), "--jobs", "1"}, ExitFailure, "cannot reach the Ratchet server"},
		{[]string{"--local", "--task", "no-such-task", "--jobs", "1"}, ExitFailure, `task "no-such-task" not found`},
		{[]string{"--local", "--input", `{"num1": "x"}`, "--jobs", "1"}, ExitFailure, "warm-up execution of addition failed"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := run(t, "", append([]string{"bench"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want exit %d with %q, got %v (after %s)", tc.code, tc.want, r, time.Since(start))
			}
		})
	}
}

func TestBenchStatistics(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := summarise("x", ds)
	if s.Count != 100 || s.Min != 1 || s.Max != 100 || s.P50 != 50 || s.P95 != 95 || s.P99 != 99 || s.Mean != 50.5 {
		t.Errorf("summarise 1..100 ms = %+v", s)
	}
	if one := summarise("one", []time.Duration{3 * time.Millisecond}); one.P50 != 3 || one.P99 != 3 {
		t.Errorf("one sample: %+v", one)
	}
	if empty := summarise("none", nil); empty.Count != 0 || empty.P50 != 0 {
		t.Errorf("no samples: %+v", empty)
	}
	if perSecond(10, 0) != 0 || perSecond(10, 2*time.Second) != 5 {
		t.Error("perSecond")
	}
}
