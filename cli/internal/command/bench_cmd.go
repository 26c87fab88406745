package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/cli/internal/buildinfo"
	"github.com/ratchet-go/ratchet/core"
)

// Modes of ratchet bench.
const (
	benchBurnDown = "burn-down"
	benchLatency  = "latency"
	benchSync     = "sync"
	benchEnqueue  = "enqueue"
)

var benchModes = []string{benchBurnDown, benchLatency, benchSync, benchEnqueue}

// benchDefaultJobs is --jobs per mode when it is not given: enough for
// stable percentiles, few enough to finish in seconds on a laptop.
var benchDefaultJobs = map[string]int{
	benchBurnDown: 2000,
	benchLatency:  200,
	benchSync:     1000,
	benchEnqueue:  2000,
}

// Bounds of ratchet bench.
const (
	defaultBenchConcurrency = 8
	maxBenchConcurrency     = 1024
	maxBenchJobs            = 1_000_000
	defaultBenchTimeout     = 10 * time.Minute
	// benchRequestTimeout bounds each request to the server.
	benchRequestTimeout = 30 * time.Second
	// benchJobTimeout bounds the wait for one job in latency mode.
	benchJobTimeout   = time.Minute
	defaultBenchTask  = "addition"
	defaultBenchInput = `{"num1": 1, "num2": 2}`
)

// benchOptions are the flags of ratchet bench.
type benchOptions struct {
	server, token       string
	local               bool
	jobs, concurrency   int
	task, input         string
	mode, output        string
	timeout, hold       time.Duration
	serverFromEnv, json bool
}

func newBenchCmd(app *App) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a server's throughput and p50/p95/p99 latency",
		Long: `Drive a Ratchet server through its REST API and report throughput and latency
percentiles. --local starts a server in this process instead (a temporary SQLite
database, the bundled example tasks, no rate limit) and stops it afterwards.

Modes:
  burn-down  queue --jobs jobs, all due at the same moment (--hold after the
             start, so that queueing is done first), then time how fast the
             workers drain them: jobs/s from the first start to the last
             completion as the server recorded them.
  latency    one job at a time on an idle server: enqueue→started and
             enqueue→completed as the server recorded them.
  sync       synchronous executes (POST /tasks/{id}/execute) from
             --concurrency callers: round-trip latency and executions/s.
  enqueue    single-job enqueues (POST /jobs) from --concurrency callers:
             round-trip latency and jobs/s. The server runs the jobs afterwards.

Every job runs --task (default addition, one of the bundled examples) on --input,
without retries. A remote server's rate limit (server.rate_limit) must allow the
load: a 429 stops the run. Progress goes to stderr; the report to stdout, as a
table or with -o json. --timeout bounds the whole run.`,
		Example: `  ratchet bench --local
  ratchet bench --local --mode latency --jobs 500
  ratchet bench --server http://10.0.0.5:8080 --token $KEY --mode sync --concurrency 16 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(cmd); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeoutCause(cmd.Context(), o.timeout,
				fmt.Errorf("the benchmark did not finish within --timeout %s", o.timeout))
			defer cancel()
			t, err := o.connect(ctx, app)
			if err != nil {
				return err
			}
			defer t.close(app)
			report, err := runBench(ctx, app, t, o)
			if err != nil {
				return err
			}
			return report.write(app.Stdout, o.json)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "URL of the Ratchet server (default $"+envServer+", else "+defaultServer+")")
	f.StringVar(&o.token, "token", "", "API key, sent as a Bearer token (default $"+envToken+")")
	f.BoolVar(&o.local, "local", false, "start a server in this process on a temporary SQLite database and bench it")
	f.StringVar(&o.mode, "mode", benchBurnDown, "what to measure: "+strings.Join(benchModes, ", "))
	f.IntVar(&o.jobs, "jobs", 0, "jobs or executions to run (default: burn-down 2000, latency 200, sync 1000, enqueue 2000)")
	f.IntVarP(&o.concurrency, "concurrency", "C", defaultBenchConcurrency, "concurrent callers (latency mode always uses one)")
	f.StringVar(&o.task, "task", defaultBenchTask, "task to run: its name, uuid or id")
	f.StringVar(&o.input, "input", defaultBenchInput, "input JSON of every job")
	f.DurationVar(&o.hold, "hold", 0, "burn-down: delay before the queued jobs are due (default: 1s plus 1ms per job)")
	f.DurationVar(&o.timeout, "timeout", defaultBenchTimeout, "limit for the whole run")
	f.StringVarP(&o.output, "output", "o", outputTable, "output format: table or json")
	cmd.MarkFlagsMutuallyExclusive("server", "local")
	return cmd
}

// check validates the flags and fills the defaults that depend on others.
func (o *benchOptions) check(cmd *cobra.Command) error {
	o.mode = strings.ToLower(strings.TrimSpace(o.mode))
	if !slices.Contains(benchModes, o.mode) {
		return NewUsageError("invalid --mode %q: allowed are %s", o.mode, strings.Join(benchModes, ", "))
	}
	output := strings.ToLower(strings.TrimSpace(o.output))
	if output != outputTable && output != outputJSON {
		return NewUsageError("invalid --output %q: allowed are table and json", o.output)
	}
	o.json = output == outputJSON
	if !cmd.Flags().Changed("jobs") {
		o.jobs = benchDefaultJobs[o.mode]
	}
	if o.jobs < 1 || o.jobs > maxBenchJobs {
		return NewUsageError("invalid --jobs %d: must be between 1 and %d", o.jobs, maxBenchJobs)
	}
	if o.concurrency < 1 || o.concurrency > maxBenchConcurrency {
		return NewUsageError("invalid --concurrency %d: must be between 1 and %d", o.concurrency, maxBenchConcurrency)
	}
	if o.mode == benchLatency {
		o.concurrency = 1
	}
	if o.timeout <= 0 {
		return NewUsageError("invalid --timeout %s: must be positive", o.timeout)
	}
	if o.hold < 0 {
		return NewUsageError("invalid --hold %s: must not be negative", o.hold)
	}
	if o.hold == 0 {
		o.hold = time.Second + time.Duration(o.jobs)*time.Millisecond
	}
	if o.task = strings.TrimSpace(o.task); o.task == "" {
		return NewUsageError("invalid --task: it must name a task")
	}
	if !json.Valid([]byte(o.input)) {
		return NewUsageError("invalid --input: not a JSON document: %s", truncate(o.input, 80))
	}
	if !cmd.Flags().Changed("server") {
		o.server = os.Getenv(envServer)
		o.serverFromEnv = o.server != ""
		if o.server == "" {
			o.server = defaultServer
		}
	}
	if !cmd.Flags().Changed("token") {
		o.token = os.Getenv(envToken)
	}
	return nil
}

// benchTarget is the server under test and how to reach it.
type benchTarget struct {
	*remote
	// local is the in-process server of --local; nil for a remote one.
	local *localServer
}

func (t *benchTarget) close(app *App) {
	if t.local != nil {
		t.local.stop(app)
	}
}

// connect starts the --local server or checks that the remote one answers,
// and returns a client sized for the concurrency.
func (o *benchOptions) connect(ctx context.Context, app *App) (*benchTarget, error) {
	t := &benchTarget{}
	server, fromEnv := o.server, o.serverFromEnv
	if o.local {
		ls, err := startLocalServer(ctx, app, o.jobs)
		if err != nil {
			return nil, err
		}
		t.local, server, fromEnv = ls, ls.url, false
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = o.concurrency + 16
	transport.MaxIdleConnsPerHost = o.concurrency + 16
	c, err := client.New(server,
		client.WithToken(strings.TrimSpace(o.token)),
		client.WithHTTPClient(&http.Client{Transport: transport}),
		client.WithUserAgent("ratchet-bench/"+buildinfo.Get().Version),
	)
	if err != nil {
		t.close(app)
		if fromEnv {
			return nil, NewUsageError("invalid %s: %w", envServer, err)
		}
		return nil, NewUsageError("invalid --server: %w", err)
	}
	t.remote = &remote{app: app, client: c, server: server, serverFromEnv: fromEnv, timeout: benchRequestTimeout}
	if err := t.call(ctx, func(ctx context.Context) error { _, err := c.Health(ctx); return err }); err != nil {
		t.close(app)
		return nil, err
	}
	return t, nil
}

// call runs one request under the per-request limit and turns its error
// into the CLI's form; when the run itself ended (--timeout, a signal),
// that is the error.
func (t *benchTarget) call(ctx context.Context, fn func(ctx context.Context) error) error {
	rctx, cancel := context.WithTimeout(ctx, benchRequestTimeout)
	defer cancel()
	err := fn(rctx)
	if err != nil && ctx.Err() != nil {
		return runEnded(ctx)
	}
	return t.fail(err)
}

// runEnded is why the run's context ended.
func runEnded(ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(cause, context.Canceled) {
		return fmt.Errorf("interrupted: %w", cause)
	}
	return cause
}

// findTask checks that the server knows the task and returns its name (a
// --local server has loaded its registry when Start returns).
func (t *benchTarget) findTask(ctx context.Context, ref string) (string, error) {
	var name string
	err := t.call(ctx, func(ctx context.Context) error {
		task, err := t.client.GetTask(ctx, ref)
		if err == nil {
			name = task.Name
		}
		return err
	})
	if errors.Is(err, core.ErrNotFound) {
		return "", fmt.Errorf("task %q not found on %s: choose one with --task (ratchet task list --server %s)", ref, t.server, t.server)
	}
	return name, err
}
