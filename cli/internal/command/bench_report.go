package command

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

// benchReport is the result of ratchet bench; -o json prints it as is.
type benchReport struct {
	Mode   string `json:"mode"`
	Server string `json:"server"`
	Local  bool   `json:"local"`
	// Workers is the worker pool size of a --local server; 0 when unknown.
	Workers     int    `json:"workers"`
	Task        string `json:"task"`
	Jobs        int    `json:"jobs"`
	Concurrency int    `json:"concurrency"`
	Succeeded   int    `json:"succeeded"`
	Failed      int    `json:"failed"`
	// DurationSeconds is the measured phase: the drain of burn-down, the
	// whole run of the others.
	DurationSeconds float64 `json:"duration_seconds"`
	// Throughput is Unit over the measured phase.
	Throughput float64          `json:"throughput"`
	Unit       string           `json:"unit"`
	Phases     []benchPhase     `json:"phases"`
	Latencies  []latencySummary `json:"latencies"`
	Notes      []string         `json:"notes"`
	StartedAt  time.Time        `json:"started_at"`
	ClientCPUs int              `json:"client_cpus"`
}

// benchPhase is one timed step of a run.
type benchPhase struct {
	Name      string  `json:"name"`
	Jobs      int     `json:"jobs"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
}

// latencySummary is a latency distribution in milliseconds.
type latencySummary struct {
	Name  string  `json:"name"`
	Count int     `json:"count"`
	Min   float64 `json:"min_ms"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func (r *benchReport) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func newPhase(name string, jobs int, d time.Duration) benchPhase {
	return benchPhase{Name: name, Jobs: jobs, Seconds: round3(d.Seconds()), PerSecond: round3(perSecond(jobs, d))}
}

// perSecond is n over d; 0 when d is not positive.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// summarise computes the distribution of ds; nearest-rank percentiles.
func summarise(name string, ds []time.Duration) latencySummary {
	s := latencySummary{Name: name, Count: len(ds)}
	if len(ds) == 0 {
		return s
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	s.Min, s.Max = ms(sorted[0]), ms(sorted[len(sorted)-1])
	s.Mean = ms(sum / time.Duration(len(sorted)))
	s.P50, s.P95, s.P99 = ms(percentile(sorted, 50)), ms(percentile(sorted, 95)), ms(percentile(sorted, 99))
	return s
}

// percentile is the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// write prints the report as JSON or as tables.
func (r *benchReport) write(w io.Writer, asJSON bool) error {
	r.DurationSeconds, r.Throughput = round3(r.DurationSeconds), round3(r.Throughput)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	t := newTable(w)
	t.field("Mode", r.Mode)
	server := r.Server
	if r.Local {
		server += fmt.Sprintf(" (local: %d workers, temporary SQLite database)", r.Workers)
	}
	t.field("Server", server)
	t.field("Task", r.Task)
	t.field("Jobs", fmt.Sprintf("%d (%d succeeded, %d failed), concurrency %d", r.Jobs, r.Succeeded, r.Failed, r.Concurrency))
	t.field("Duration", fmt.Sprintf("%.3fs", r.DurationSeconds))
	t.field("Throughput", fmt.Sprintf("%.1f %s", r.Throughput, r.Unit))
	if err := t.flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	t = newTable(w)
	t.row("PHASE", "JOBS", "SECONDS", "PER SECOND")
	for _, p := range r.Phases {
		t.row(p.Name, strconv.Itoa(p.Jobs), fmt.Sprintf("%.3f", p.Seconds), fmt.Sprintf("%.1f", p.PerSecond))
	}
	if err := t.flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	t = newTable(w)
	t.row("LATENCY (ms)", "COUNT", "MIN", "P50", "P95", "P99", "MAX", "MEAN")
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	for _, l := range r.Latencies {
		t.row(l.Name, strconv.Itoa(l.Count), f(l.Min), f(l.P50), f(l.P95), f(l.P99), f(l.Max), f(l.Mean))
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\nnote: %s", n)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
	}
	return nil
}
