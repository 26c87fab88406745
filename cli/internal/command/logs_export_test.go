package command

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// failureDB is a migrated SQLite database in a temporary folder and a
// configuration file pointing at it.
type failureDB struct {
	store  *sqlstore.Store
	config string
	tasks  map[string]core.Task
}

func newFailureDB(t *testing.T) *failureDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.db")
	store, err := sqlstore.Open(t.Context(), "sqlite://"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if _, err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	db := &failureDB{store: store, tasks: map[string]core.Task{},
		config: writeFile(t, "ratchet.yaml", "server:\n  database:\n    url: sqlite://"+path+"\n")}
	for _, name := range []string{"addition", "weather-api"} {
		task, err := store.Tasks().Create(t.Context(), core.Task{Name: name, Enabled: true, Source: "api"},
			&core.TaskVersion{Code: "(function (input) { return input; })"})
		if err != nil {
			t.Fatal(err)
		}
		db.tasks[name] = task
	}
	return db
}

// execution stores a finished execution of task that ended ago before now.
func (db *failureDB) execution(t *testing.T, task string, status core.ExecutionStatus, errType, msg string, ago time.Duration, details string, jobID *int64) core.Execution {
	t.Helper()
	at := time.Now().UTC().Add(-ago)
	e := core.Execution{
		TaskID: db.tasks[task].ID, TaskName: task, Status: status, JobID: jobID,
		Input: json.RawMessage(`{}`), ErrorType: errType, ErrorMessage: msg,
		QueuedAt: at.Add(-time.Second), CompletedAt: &at,
	}
	if details != "" {
		e.ErrorDetails = json.RawMessage(details)
	}
	e, err := db.store.Executions().Create(t.Context(), e)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// failJob enqueues a job of task, claims it and fails it; with
// withExecution, its failing execution is stored too.
func (db *failureDB) failJob(t *testing.T, task, errType, msg string, withExecution bool) core.Job {
	t.Helper()
	ctx := t.Context()
	job, _, err := db.store.Jobs().Enqueue(ctx, core.Job{TaskID: db.tasks[task].ID, Input: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := db.store.Jobs().Claim(ctx, "test", 1, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].ID != job.ID {
		t.Fatalf("claiming job %d: %v, %v", job.ID, claimed, err)
	}
	o := sqlstore.Outcome{ErrorType: errType, ErrorMessage: msg, Lease: sqlstore.Lease{Owner: "test"}}
	if withExecution {
		e := db.execution(t, task, core.ExecutionFailed, errType, msg, 0, "", &job.ID)
		o.ExecutionID = &e.ID
	}
	job, err = db.store.Jobs().Fail(ctx, job.ID, o)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// seed stores the failures the tests summarise.
func (db *failureDB) seed(t *testing.T) {
	t.Helper()
	const schemaDetails = `{"errors": [{"path": "/num1", "message": "required"}]}`
	for _, ago := range []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour} {
		db.execution(t, "addition", core.ExecutionFailed, "InputValidationError",
			"input does not match the schema: num1 is required", ago, schemaDetails, nil)
	}
	db.execution(t, "addition", core.ExecutionFailed, "InputValidationError",
		"input does not match the schema: num2 must be a number", 30*time.Minute, "", nil)
	db.execution(t, "addition", core.ExecutionCompleted, "", "", time.Hour, "", nil)
	db.execution(t, "addition", core.ExecutionFailed, "TypeError",
		"Cannot read properties of undefined (reading 'x')", 40*time.Hour,
		`{"stack": "TypeError: Cannot read properties of undefined\n\tat ratchet:errors:11:10(11)\n\tat main (main.js:3:10(5))\n"}`, nil)

	db.execution(t, "weather-api", core.ExecutionFailed, "NetworkError",
		"GET http://127.0.0.1:5001/forecast: connect: connection refused", 10*time.Minute, "", nil)
	db.execution(t, "weather-api", core.ExecutionFailed, "NetworkError",
		"GET http://127.0.0.1:5002/forecast: connect: connection refused", 20*time.Minute, "", nil)
	db.execution(t, "weather-api", core.ExecutionFailed, "ConfigurationError",
		`fetch to host "evil.example" is not allowed: it is in http.denied_hosts`, 5*time.Hour, "", nil)
	db.failJob(t, "weather-api", "TimeoutError", "execution exceeded the task's timeout of 5s", true)
	db.failJob(t, "addition", "CompileError", "main.js: SyntaxError: Unexpected token '}'", false)
}

// exportJSON runs logs export --format json and decodes its report.
func exportJSON(t *testing.T, db *failureDB, args ...string) failureReport {
	t.Helper()
	r := run(t, "", append([]string{"--config", db.config, "logs", "export", "--format", "json"}, args...)...)
	if r.code != 0 {
		t.Fatal(r)
	}
	var rep failureReport
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("logs export --format json: %v\n%s", err, r.stdout)
	}
	return rep
}

func findGroup(rep failureReport, task, errType string) *errorFailures {
	for _, tf := range rep.Tasks {
		if tf.Task != task {
			continue
		}
		for i := range tf.Errors {
			if tf.Errors[i].ErrorType == errType {
				return &tf.Errors[i]
			}
		}
	}
	return nil
}

func TestLogsExportGroupsFailures(t *testing.T) {
	t.Parallel()
	db := newFailureDB(t)
	db.seed(t)

	type want struct {
		task, errType       string
		failures, failedJob int
		distinct            int
		topCount            int
		suggestion          string
	}
	for _, tc := range []struct {
		name     string
		args     []string
		total    int
		tasks    []string
		groups   []want
		excluded [][2]string
	}{
		{
			name: "last 24h", total: 9, tasks: []string{"addition", "weather-api"},
			groups: []want{
				{"addition", "InputValidationError", 4, 0, 2, 3, "does not match input.schema.json"},
				{"addition", "CompileError", 1, 1, 1, 1, "ratchet validate"},
				{"weather-api", "NetworkError", 2, 0, 1, 2, "upstream is down"},
				{"weather-api", "ConfigurationError", 1, 0, 1, 1, "http.allowed_hosts"},
				{"weather-api", "TimeoutError", 1, 1, 1, 1, "execution.max_execution_duration"},
			},
			excluded: [][2]string{{"addition", "TypeError"}},
		},
		{
			name: "since 48h", args: []string{"--since", "48h"}, total: 10,
			groups: []want{{"addition", "TypeError", 1, 0, 1, 1, "JavaScript bug"}},
		},
		{
			name: "since 2d", args: []string{"--since", "2d"}, total: 10,
			groups: []want{{"addition", "TypeError", 1, 0, 1, 1, "JavaScript bug"}},
		},
		{
			name: "since 15m", args: []string{"--since", "15m"}, total: 3,
			groups: []want{
				{"weather-api", "NetworkError", 1, 0, 1, 1, "upstream is down"},
				{"weather-api", "TimeoutError", 1, 1, 1, 1, "max_execution_duration"},
				{"addition", "CompileError", 1, 1, 1, 1, "ratchet validate"},
			},
			excluded: [][2]string{{"addition", "InputValidationError"}},
		},
		{
			name: "since an RFC 3339 time", args: []string{"--since", time.Now().UTC().Add(-150 * time.Minute).Format(time.RFC3339)}, total: 7,
			groups:   []want{{"addition", "InputValidationError", 3, 0, 2, 2, "error_details"}},
			excluded: [][2]string{{"weather-api", "ConfigurationError"}},
		},
		{
			name: "one task", args: []string{"--task", "weather-api"}, total: 4, tasks: []string{"weather-api"},
			groups:   []want{{"weather-api", "NetworkError", 2, 0, 1, 2, "upstream is down"}},
			excluded: [][2]string{{"addition", "InputValidationError"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := exportJSON(t, db, tc.args...)
			if rep.Failures != tc.total {
				t.Errorf("failures = %d, want %d", rep.Failures, tc.total)
			}
			if tc.tasks != nil {
				var got []string
				for _, tf := range rep.Tasks {
					got = append(got, tf.Task)
				}
				if strings.Join(got, ",") != strings.Join(tc.tasks, ",") {
					t.Errorf("tasks %v, want %v (most failures first)", got, tc.tasks)
				}
			}
			for _, w := range tc.groups {
				g := findGroup(rep, w.task, w.errType)
				if g == nil {
					t.Errorf("no group %s/%s in %+v", w.task, w.errType, rep.Tasks)
					continue
				}
				if g.Failures != w.failures || g.FailedJobs != w.failedJob || g.DistinctMessages != w.distinct {
					t.Errorf("%s/%s: failures %d, failed jobs %d, distinct %d; want %d, %d, %d",
						w.task, w.errType, g.Failures, g.FailedJobs, g.DistinctMessages, w.failures, w.failedJob, w.distinct)
				}
				if len(g.Samples) == 0 || g.Samples[0].Count != w.topCount {
					t.Errorf("%s/%s: samples %+v, want the first with count %d", w.task, w.errType, g.Samples, w.topCount)
				}
				if !strings.Contains(g.Suggestion, w.suggestion) {
					t.Errorf("%s/%s: suggestion %q lacks %q", w.task, w.errType, g.Suggestion, w.suggestion)
				}
				if g.FirstSeen.IsZero() || g.LastSeen.Before(g.FirstSeen) {
					t.Errorf("%s/%s: seen %s to %s", w.task, w.errType, g.FirstSeen, g.LastSeen)
				}
			}
			for _, ex := range tc.excluded {
				if g := findGroup(rep, ex[0], ex[1]); g != nil {
					t.Errorf("group %s/%s should be outside the window: %+v", ex[0], ex[1], g)
				}
			}
		})
	}
}

func TestLogsExportJSONDetails(t *testing.T) {
	t.Parallel()
	db := newFailureDB(t)
	db.seed(t)
	rep := exportJSON(t, db)

	if rep.FailedExecutions != 8 || rep.FailedJobs != 2 || rep.Truncated || rep.Limit != defaultLogsLimit {
		t.Errorf("totals: %d failed executions, %d failed jobs, truncated %v, limit %d", rep.FailedExecutions, rep.FailedJobs, rep.Truncated, rep.Limit)
	}
	if d := rep.Until.Sub(rep.Since); d < 24*time.Hour-time.Minute || d > 24*time.Hour+time.Minute {
		t.Errorf("window %s to %s is not 24h", rep.Since, rep.Until)
	}

	g := findGroup(rep, "addition", "InputValidationError")
	top := g.Samples[0]
	if top.Message != "input does not match the schema: num1 is required" || top.ExecutionID == nil ||
		!strings.Contains(top.Details, `"path":"/num1"`) {
		t.Errorf("top sample %+v", top)
	}
	if g.LastSeen.Sub(g.FirstSeen) < 2*time.Hour {
		t.Errorf("InputValidationError seen %s to %s, want 2.5h apart", g.FirstSeen, g.LastSeen)
	}

	// A failed job whose execution was read counts once; one without an
	// execution is a failure of its own, pointing at the job.
	tg := findGroup(rep, "weather-api", "TimeoutError")
	if tg.Samples[0].JobID == nil || tg.Samples[0].ExecutionID == nil {
		t.Errorf("timeout sample should name its job and execution: %+v", tg.Samples[0])
	}
	cg := findGroup(rep, "addition", "CompileError")
	if cg.Samples[0].JobID == nil || cg.Samples[0].ExecutionID != nil {
		t.Errorf("compile error sample should name only its job: %+v", cg.Samples[0])
	}

	// A stack leaves the details for its frames in the task's code.
	rep48 := exportJSON(t, db, "--since", "48h")
	if s := findGroup(rep48, "addition", "TypeError").Samples[0]; s.Stack != "at main (main.js:3:10(5))" || s.Details != "" {
		t.Errorf("TypeError sample: stack %q, details %q", s.Stack, s.Details)
	}

	// --limit bounds what is read and says so.
	rep = exportJSON(t, db, "--limit", "2")
	if !rep.Truncated || rep.FailedExecutions != 2 || rep.FailedExecutionsInWindow != 8 {
		t.Errorf("--limit 2: truncated %v, read %d of %d", rep.Truncated, rep.FailedExecutions, rep.FailedExecutionsInWindow)
	}
}

func TestLogsExportLLM(t *testing.T) {
	t.Parallel()
	db := newFailureDB(t)
	db.seed(t)
	r := run(t, "", "--config", db.config, "logs", "export")
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{
		"# Ratchet failure report\n",
		"(the last 24h).\n",
		"Totals: 9 failures (8 failed executions, 2 failed jobs) in 2 tasks",
		"## Task `addition`: 5 failures, 1 failed job\n",
		"### InputValidationError: 4 failures, 0 failed jobs\n",
		"- Suggestion: the input does not match input.schema.json",
		"  - 3× `input does not match the schema: num1 is required` (latest: execution ",
		`    details: ` + "`" + `{"errors":[{"message":"required","path":"/num1"}]}` + "`",
		"- Messages (2 distinct messages):",
		"### NetworkError: 2 failures",
		"http.allowed_hosts",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("llm output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "TypeError") {
		t.Errorf("llm output shows a failure outside the window:\n%s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestLogsExportEmpty(t *testing.T) {
	t.Parallel()
	db := newFailureDB(t)
	db.execution(t, "addition", core.ExecutionCompleted, "", "", time.Minute, "", nil)

	r := run(t, "", "--config", db.config, "logs", "export")
	if r.code != 0 || !strings.Contains(r.stdout, "No failed executions or jobs in this window.") {
		t.Errorf("llm: %v", r)
	}
	r = run(t, "", "--config", db.config, "logs", "export", "--format", "json")
	if r.code != 0 {
		t.Fatal(r)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if tasks, ok := doc["tasks"].([]any); !ok || len(tasks) != 0 || doc["failures"] != float64(0) {
		t.Errorf("empty JSON report: %s", r.stdout)
	}
	// The stable fields are present even when empty.
	for _, key := range []string{"since", "until", "task", "failures", "failed_executions", "failed_jobs",
		"failed_executions_in_window", "failed_jobs_in_window", "limit", "truncated", "tasks"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("JSON report lacks %q: %s", key, r.stdout)
		}
	}
}

func TestLogsExportUsageErrors(t *testing.T) {
	t.Parallel()
	db := newFailureDB(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--since", "yesterday"}, `invalid --since "yesterday"`},
		{[]string{"--since", "-5m"}, "must be positive"},
		{[]string{"--since", "0d"}, "positive whole number of days"},
		{[]string{"--since", "2999-01-01T00:00:00Z"}, "in the future"},
		{[]string{"--since", ""}, "invalid --since"},
		{[]string{"--format", "yaml"}, `invalid --format "yaml"`},
		{[]string{"--limit", "0"}, "invalid --limit 0"},
		{[]string{"--limit", "many"}, "invalid argument"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, "", append([]string{"--config", db.config, "logs", "export"}, tc.args...)...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want exit 2 with %q, got %v", tc.want, r)
			}
		})
	}
}

func TestSuggestFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		errType, message, want string
	}{
		{"InputValidationError", "input does not match", "input.schema.json"},
		{"OutputValidationError", "", "output.schema.json"},
		{"CompileError", "unexpected token", "ratchet validate"},
		{"TimeoutError", "execution exceeded the task's timeout of 5s", "execution.max_execution_duration"},
		{"TimeoutError", "execution exceeded the requested timeout of 1s", "execution.max_execution_duration"},
		{"TimeoutError", "GET https://api.example/x: context deadline exceeded", "give fetch a `timeout`"},
		{"NetworkError", "fetch to host \"x\" is not allowed: it is not in http.allowed_hosts", "http.allowed_hosts"},
		{"ConfigurationError", "fetch to host \"x\" is not allowed: it is in http.denied_hosts", "http.denied_hosts"},
		{"NetworkError", "dial tcp 127.0.0.1:9: connect: connection refused", "upstream is down"},
		{"Error", "ECONNREFUSED 10.0.0.1:80", "upstream is down"},
		{"NetworkError", "dial tcp: lookup nope.invalid: no such host", "does not resolve"},
		{"NetworkError", "x509: certificate signed by unknown authority", "TLS"},
		{"NetworkError", "network is off during tests and no mock matches GET http://x", "mock.http"},
		{"NetworkError", "something odd", "did not reach the upstream"},
		{"WorkerCrashError", "worker exited: signal: killed", "execution.memory_limit_mb"},
		{"MemoryLimitError", "", "execution.memory_limit_mb"},
		{"RateLimitError", "", "backoff"},
		{"HttpError", "GET http://x: 429 Too Many Requests", "backoff"},
		{"AuthenticationError", "", "credentials"},
		{"ServiceUnavailableError", "503", "5xx"},
		{"HttpError", "418", "error_details"},
		{"NotFoundError", "task 99 not found", "ratchet task list"},
		{"NotFoundError", "GET http://x: 404", "404"},
		{"TypeError", "Cannot read properties of undefined", "run-once"},
		{"CancelledError", "", "cancelled"},
		{"ConfigurationError", "bad setting", "config validate"},
		{"SomethingElse", "", "no known pattern"},
	} {
		t.Run(tc.errType+" "+tc.message, func(t *testing.T) {
			t.Parallel()
			if got := suggestFor(tc.errType, tc.message); !strings.Contains(got, tc.want) {
				t.Errorf("suggestFor(%q, %q) = %q, want it to contain %q", tc.errType, tc.message, got, tc.want)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"24h", now.Add(-24 * time.Hour), true},
		{"90m", now.Add(-90 * time.Minute), true},
		{"7d", now.AddDate(0, 0, -7), true},
		{"2025-03-01T08:30:00Z", time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC), true},
		{"2025-03-01T10:30:00+02:00", time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC), true},
		{"2025-03-01", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"2025-03-11", time.Time{}, false},
		{"0s", time.Time{}, false},
		{"1.5d", time.Time{}, false},
		{"soon", time.Time{}, false},
	} {
		got, err := parseSince(tc.in, now)
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("parseSince(%q) = %s, %v; want %s (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestMessageKeyDeduplicates(t *testing.T) {
	t.Parallel()
	same := [][2]string{
		{"GET http://127.0.0.1:5001/x: refused", "GET http://127.0.0.1:5002/x:  refused"},
		{"job 0b6f1a9e-3c1d-4d7e-9f8a-1b2c3d4e5f60 failed", "job 7c9e6679-7425-40de-944b-e07fc1f90ae7 failed"},
		{"took 1234.5 ms", "took 99.25 ms"},
	}
	for _, p := range same {
		if messageKey(p[0]) != messageKey(p[1]) {
			t.Errorf("%q and %q should share a key: %q vs %q", p[0], p[1], messageKey(p[0]), messageKey(p[1]))
		}
	}
	if messageKey("status 404") == messageKey("status 500") {
		t.Error("HTTP statuses should stay apart")
	}
	if got := sampleMessage(strings.Repeat("x", 500)); len([]rune(got)) != sampleMessageLen {
		t.Errorf("sample message of %d characters", len([]rune(got)))
	}
}
