package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/host"
	"github.com/ratchet-go/ratchet/plugin/sdk"
)

// pluginsDir makes a plugins dir holding the example plugin.
func pluginsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(echoPluginBin, filepath.Join(dir, "echo-plugin")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// startManager starts a manager on cfg (its Dir a fresh plugins dir when
// empty) and stops it when the test ends, checking no process is left.
func startManager(t *testing.T, cfg host.Config) *host.Manager {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = pluginsDir(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if cfg.RestartDelay == 0 {
		cfg.RestartDelay = 10 * time.Millisecond
	}
	m, err := host.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	var pids []int
	t.Cleanup(func() {
		for _, s := range m.Plugins() {
			if s.PID != 0 {
				pids = append(pids, s.PID)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("plugin process %d still exists after Stop (kill -0: %v)", pid, err)
			}
		}
		for _, s := range m.Plugins() {
			if s.State != host.StateStopped {
				t.Errorf("plugin %s is %s after Stop", s.Name, s.State)
			}
		}
	})
	return m
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func onlyStatus(t *testing.T, m *host.Manager) host.Status {
	t.Helper()
	ps := m.Plugins()
	if len(ps) != 1 {
		t.Fatalf("Plugins() = %+v, want one", ps)
	}
	return ps[0]
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Symlink(echoPluginBin, filepath.Join(dir, "b-plugin")); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"a-script": 0o755, "readme.txt": 0o644, ".hidden": 0o755} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	got, err := host.Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []host.Candidate{
		{Name: "a-script", Path: filepath.Join(dir, "a-script")},
		{Name: "b-plugin", Path: filepath.Join(dir, "b-plugin")},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Discover = %+v, want %+v", got, want)
	}

	if _, err := host.Discover(filepath.Join(dir, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Discover(missing dir) error = %v, want fs.ErrNotExist", err)
	}
}

func TestDescribeAndTasks(t *testing.T) {
	t.Parallel()
	var changes []host.Status
	changed := make(chan host.Status, 16)
	m := startManager(t, host.Config{OnStatusChange: func(s host.Status) { changed <- s }})

	st := onlyStatus(t, m)
	if st.Name != "echo" || st.Version != "1.0.0" || st.State != host.StateRunning || st.PID == 0 || st.Restarts != 0 {
		t.Fatalf("status = %+v", st)
	}
	if !slices.Equal(st.Tasks, []string{"echo-upper", "event-count", "wait"}) {
		t.Errorf("status tasks = %v", st.Tasks)
	}
	if !slices.Contains(st.Events, core.EventJobCompleted) || slices.Contains(st.Events, core.EventWorkerStatusChanged) {
		t.Errorf("status events = %v", st.Events)
	}
	for len(changed) > 0 {
		changes = append(changes, <-changed)
	}
	if len(changes) == 0 || changes[len(changes)-1].State != host.StateRunning {
		t.Errorf("OnStatusChange saw %+v, want it to end running", changes)
	}

	tasks := m.Tasks()
	if len(tasks) != 3 {
		t.Fatalf("Tasks() = %+v", tasks)
	}
	up := tasks[0]
	if up.Plugin != "echo" || up.Name != "echo-upper" || up.Source() != "plugin:echo" || !json.Valid(up.InputSchema) || !json.Valid(up.OutputSchema) {
		t.Fatalf("task = %+v", up)
	}
	ct := up.CoreTask()
	if ct.Name != "echo-upper" || ct.Source != "plugin:echo" || ct.Version != "1.0.0" || !ct.Enabled || string(ct.InputSchema) != string(up.InputSchema) {
		t.Errorf("CoreTask = %+v", ct)
	}
	if name, ok := host.PluginOfSource(ct.Source); !ok || name != "echo" {
		t.Errorf("PluginOfSource(%q) = %q, %v", ct.Source, name, ok)
	}

	// Status is JSON-friendly.
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var asMap map[string]any
	if err := json.Unmarshal(b, &asMap); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "version", "path", "state", "pid", "restarts", "tasks", "events", "events_dropped", "started_at"} {
		if _, ok := asMap[k]; !ok {
			t.Errorf("Status JSON %s lacks %q", b, k)
		}
	}
}

func TestExecute(t *testing.T) {
	t.Parallel()
	m := startManager(t, host.Config{})
	ec := sdk.ExecContext{ExecutionID: 1, TaskName: "echo-upper", Attempt: 1}

	out, cerr := m.Execute(t.Context(), "echo", "echo-upper", json.RawMessage(`{"text":"hello"}`), ec)
	if cerr != nil || string(out) != `{"text":"HELLO"}` {
		t.Fatalf("Execute = %s, %v", out, cerr)
	}

	tests := []struct {
		name, plugin, task, input string
		kind                      core.ErrorKind
	}{
		{"validation error", "echo", "echo-upper", `{"text":3}`, core.KindValidation},
		{"missing field", "echo", "echo-upper", `{}`, core.KindValidation},
		{"unknown task", "echo", "nope", `{}`, core.KindNotFound},
		{"unknown plugin", "nope", "echo-upper", `{}`, core.KindNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, cerr := m.Execute(t.Context(), tt.plugin, tt.task, json.RawMessage(tt.input), ec)
			if cerr == nil || cerr.Kind != tt.kind {
				t.Fatalf("Execute = %s, %v; want a %s", out, cerr, tt.kind)
			}
		})
	}

	_, cerr = m.Execute(t.Context(), "echo", "echo-upper", json.RawMessage(`{}`), ec)
	if cerr.Details["field"] != "text" || cerr.HTTPStatus() != 400 || cerr.Retryable() {
		t.Errorf("validation error = %#v: want details field=text, status 400, not retryable", cerr)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, cerr = m.Execute(ctx, "echo", "wait", json.RawMessage(`{"ms":10000}`), ec)
	if cerr == nil || cerr.Kind != core.KindTimeout {
		t.Fatalf("Execute past its deadline = %v, want TimeoutError", cerr)
	}
	// The plugin is fine after a timeout.
	if _, cerr := m.Execute(t.Context(), "echo", "echo-upper", json.RawMessage(`{"text":"x"}`), ec); cerr != nil {
		t.Fatalf("Execute after a timeout: %v", cerr)
	}
}

func eventCount(t *testing.T, m *host.Manager) (total int, byType map[string]int) {
	t.Helper()
	out, cerr := m.Execute(t.Context(), "echo", "event-count", json.RawMessage(`{}`), sdk.ExecContext{})
	if cerr != nil {
		t.Fatal(cerr)
	}
	var r struct {
		Total  int            `json:"total"`
		ByType map[string]int `json:"by_type"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r.Total, r.ByType
}

func TestEventsDelivered(t *testing.T) {
	t.Parallel()
	m := startManager(t, host.Config{})
	job := &core.Job{ID: 1, TaskName: "t", Status: core.JobCompleted}
	m.Publish(t.Context(), core.Event{Type: core.EventJobQueued, Time: time.Now(), Job: job})
	m.Publish(t.Context(), core.Event{Type: core.EventJobCompleted, Time: time.Now(), Job: job})
	m.Publish(t.Context(), core.Event{Type: core.EventJobCompleted, Time: time.Now(), Job: job})
	m.Publish(t.Context(), core.Event{Type: core.EventExecutionFinished, Time: time.Now(), Execution: &core.Execution{ID: 2}})
	// Not subscribed: never delivered.
	m.Publish(t.Context(), core.Event{Type: core.EventWorkerStatusChanged, Time: time.Now(), Worker: &core.Worker{ID: "w"}})

	waitFor(t, "4 events delivered", func() bool { return onlyStatus(t, m).EventsDelivered == 4 })
	total, byType := eventCount(t, m)
	if total != 4 || byType["job.completed"] != 2 || byType["job.queued"] != 1 || byType["execution.finished"] != 1 {
		t.Fatalf("plugin counted %d events: %v", total, byType)
	}
	if st := onlyStatus(t, m); st.EventsDropped != 0 || st.EventsFailed != 0 {
		t.Errorf("status = %+v, want no dropped or failed events", st)
	}
}

func TestEventQueueBounded(t *testing.T) {
	t.Parallel()
	m := startManager(t, host.Config{EventQueueSize: 1})
	const n = 2000
	start := time.Now()
	for range n {
		m.Publish(t.Context(), core.Event{Type: core.EventJobStarted, Time: time.Now(), Job: &core.Job{ID: 1}})
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Publish blocked: %d events took %s", n, d)
	}
	waitFor(t, "every event accounted for", func() bool {
		st := onlyStatus(t, m)
		return st.EventsDelivered+st.EventsDropped+st.EventsFailed == n
	})
	st := onlyStatus(t, m)
	if st.EventsDropped == 0 {
		t.Errorf("status = %+v: want events dropped with a queue of 1", st)
	}
	if total, _ := eventCount(t, m); uint64(total) != st.EventsDelivered {
		t.Errorf("plugin counted %d events, host delivered %d", total, st.EventsDelivered)
	}
}

func TestCrashRestart(t *testing.T) {
	t.Parallel()
	m := startManager(t, host.Config{})
	before := onlyStatus(t, m)
	ec := sdk.ExecContext{ExecutionID: 5}

	// A call in flight when the plugin is killed fails with a typed error.
	errc := make(chan *core.Error, 1)
	go func() {
		_, cerr := m.Execute(context.Background(), "echo", "wait", json.RawMessage(`{"ms":30000}`), ec)
		errc <- cerr
	}()
	time.Sleep(100 * time.Millisecond) // let the call reach the plugin
	if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var cerr *core.Error
	select {
	case cerr = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("the call in flight did not end when its plugin was killed")
	}
	if cerr == nil || cerr.Kind != core.KindWorkerCrash || !errors.Is(cerr, sdk.ErrGone) || cerr.Details["plugin"] != "echo" {
		t.Fatalf("call in flight = %#v, want a WorkerCrashError naming the plugin", cerr)
	}
	if !cerr.Retryable() {
		t.Errorf("a crash must be retryable")
	}

	waitFor(t, "the plugin restarted", func() bool {
		st := onlyStatus(t, m)
		return st.State == host.StateRunning && st.Restarts == 1
	})
	after := onlyStatus(t, m)
	if after.PID == before.PID || after.LastError == "" || after.LastErrorAt == nil {
		t.Errorf("status after restart = %+v, want a new pid and the crash reported", after)
	}
	out, cerr := m.Execute(t.Context(), "echo", "echo-upper", json.RawMessage(`{"text":"back"}`), ec)
	if cerr != nil || string(out) != `{"text":"BACK"}` {
		t.Fatalf("Execute after restart = %s, %v", out, cerr)
	}
	if len(m.Tasks()) != 3 {
		t.Errorf("Tasks() after restart = %+v", m.Tasks())
	}
}

func TestKilledWhileIdle(t *testing.T) {
	t.Parallel()
	// A long delay keeps the plugin down while we look.
	m := startManager(t, host.Config{RestartDelay: time.Hour, MaxRestartDelay: time.Hour})
	st := onlyStatus(t, m)
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the crash noticed", func() bool { return onlyStatus(t, m).State == host.StateRestarting })
	_, cerr := m.Execute(t.Context(), "echo", "echo-upper", json.RawMessage(`{"text":"x"}`), sdk.ExecContext{})
	if cerr == nil || cerr.Kind != core.KindServiceUnavailable || !cerr.Retryable() {
		t.Fatalf("Execute on a restarting plugin = %v, want a retryable ServiceUnavailableError", cerr)
	}
	// Its tasks stay known while it restarts.
	if len(m.Tasks()) != 3 {
		t.Errorf("Tasks() while restarting = %+v", m.Tasks())
	}
}

func TestBrokenPluginFailsAlone(t *testing.T) {
	t.Parallel()
	dir := pluginsDir(t)
	bad := filepath.Join(dir, "bad-plugin")
	if err := os.WriteFile(bad, []byte("#!/bin/sh\necho 'not a plugin' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A second copy of echo: same name, so it cannot run.
	if err := os.Symlink(echoPluginBin, filepath.Join(dir, "echo-plugin-copy")); err != nil {
		t.Fatal(err)
	}
	m := startManager(t, host.Config{Dir: dir, MaxRestartAttempts: 2, StartTimeout: 5 * time.Second})
	byPath := func() map[string]host.Status {
		out := map[string]host.Status{}
		for _, s := range m.Plugins() {
			out[filepath.Base(s.Path)] = s
		}
		return out
	}
	// Of the two echo copies, the first to start keeps the name.
	waitFor(t, "the bad plugins failed", func() bool {
		ps := byPath()
		return ps["bad-plugin"].State == host.StateFailed &&
			(ps["echo-plugin"].State == host.StateFailed) != (ps["echo-plugin-copy"].State == host.StateFailed)
	})
	ps := byPath()
	if s := ps["bad-plugin"]; s.LastError == "" || s.Name != "bad-plugin" || s.Restarts != 0 || s.Failures != 3 {
		t.Errorf("bad plugin status = %+v", s)
	}
	dup, good := ps["echo-plugin-copy"], ps["echo-plugin"]
	if dup.State != host.StateFailed {
		dup, good = good, dup
	}
	if !strings.Contains(dup.LastError, `plugin name "echo" is already used`) {
		t.Errorf("duplicate plugin status = %+v, want the name clash reported", dup)
	}
	if good.State != host.StateRunning {
		t.Fatalf("good plugin status = %+v", good)
	}
	if _, cerr := m.Execute(t.Context(), "echo", "echo-upper", json.RawMessage(`{"text":"ok"}`), sdk.ExecContext{}); cerr != nil {
		t.Fatalf("the good plugin does not answer: %v", cerr)
	}
	if _, cerr := m.Execute(t.Context(), "bad-plugin", "x", nil, sdk.ExecContext{}); cerr == nil || cerr.Kind != core.KindServiceUnavailable {
		t.Errorf("Execute on a failed plugin = %v, want ServiceUnavailableError", cerr)
	}
	if n := len(m.Tasks()); n != 3 {
		t.Errorf("Tasks() = %d tasks, want the good plugin's 3", n)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	m, err := host.New(host.Config{Dir: filepath.Join(t.TempDir(), "missing"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(t.Context()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := m.Start(t.Context()); err == nil {
		t.Error("Start after Stop succeeded")
	}
	if err := m.Stop(t.Context()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	m2, err := host.New(host.Config{Dir: filepath.Join(t.TempDir(), "missing"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Start(t.Context()); err != nil {
		t.Fatalf("Start with a missing plugins dir: %v", err)
	}
	if len(m2.Plugins()) != 0 || len(m2.Tasks()) != 0 {
		t.Errorf("plugins from a missing dir: %+v", m2.Plugins())
	}
	m2.Publish(t.Context(), core.Event{Type: core.EventJobQueued})
	if err := m2.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	if _, err := host.New(host.Config{EventQueueSize: -1}); err == nil {
		t.Error("New accepted a negative EventQueueSize")
	}
}

// TestFailedFirstStartIsReportedWhenStartReturns checks that once Start
// has returned, a plugin whose first start failed shows that failure
// (state and error), never "starting" without an error.
func TestFailedFirstStartIsReportedWhenStartReturns(t *testing.T) {
	t.Parallel()
	for name, script := range map[string]string{
		"exits": "#!/bin/sh\necho 'not a plugin' >&2\nexit 3\n",
		"hangs": "#!/bin/sh\nexec sleep 30\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "bad-plugin"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			// A slow logger widens the window between the failed start and
			// its recording, which Start must not return inside.
			log := slog.New(slowErrors{testLogger(t).Handler()})
			m := startManager(t, host.Config{Dir: dir, Logger: log, RestartDelay: time.Minute, StartTimeout: 300 * time.Millisecond})
			s := onlyStatus(t, m)
			if s.State != host.StateRestarting || s.LastError == "" || s.LastErrorAt == nil || s.Failures != 1 {
				t.Fatalf("status right after Start = %+v, want restarting with the error", s)
			}
		})
	}
}

// slowErrors is a slog.Handler that takes 200 ms to write an error.
type slowErrors struct{ slog.Handler }

func (h slowErrors) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		time.Sleep(200 * time.Millisecond)
	}
	return h.Handler.Handle(ctx, r)
}
