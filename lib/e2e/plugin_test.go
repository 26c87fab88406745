package e2e_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/service"
	"github.com/ratchet-go/ratchet/plugin/host"
)

// echoSource is the source of the example plugin's tasks (it describes
// itself as "echo").
const echoSource = "plugin:echo"

// buildEchoPlugin builds the example plugin into a fresh plugins dir.
func buildEchoPlugin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "echo-plugin"), "./examples/echo-plugin")
	build.Dir = filepath.Join("..", "..", "plugin") // the plugin module's root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example plugin: %v\n%s", err, out)
	}
	return dir
}

func withPlugins(dir string) option {
	return func(c *config.Config, _ *app.Options) { c.Plugins = config.PluginsConfig{Enabled: true, Dir: dir} }
}

func (e *env) execute(ref, input string) (service.ExecuteResult, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.svc.Tasks().Execute(ctx, ref, service.ExecuteTask{Input: json.RawMessage(input)})
}

func (e *env) plugin(name string) app.PluginStatus {
	e.t.Helper()
	for _, p := range e.app.Plugins() {
		if p.Name == name {
			return p
		}
	}
	e.t.Fatalf("no plugin %q in %+v", name, e.app.Plugins())
	return app.PluginStatus{}
}

func eventCount(t *testing.T, e *env) (total int, byType map[string]int) {
	t.Helper()
	res, err := e.execute("event-count", `{}`)
	if err != nil {
		t.Fatalf("event-count: %v", err)
	}
	var out struct {
		Total  int            `json:"total"`
		ByType map[string]int `json:"by_type"`
	}
	if err := json.Unmarshal(res.Execution.Output, &out); err != nil {
		t.Fatalf("event-count output %s: %v", res.Execution.Output, err)
	}
	return out.Total, out.ByType
}

func TestPluginTasksEventsAndCrash(t *testing.T) {
	dir := buildEchoPlugin(t)
	// A JS task named like one of the plugin's tasks exists first: the
	// plugin must not take it over.
	e := newEnv(t, "", workers(1))
	js := e.task("wait", jsEcho, "")
	e.cfg.Plugins = config.PluginsConfig{Enabled: true, Dir: dir}
	e.restart()
	ctx := context.Background()

	t.Run("tasks are registered with their plugin as source", func(t *testing.T) {
		page, err := e.svc.Tasks().List(ctx, core.ListQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		sources := map[string]string{}
		for _, task := range page.Items {
			sources[task.Name] = task.Source
		}
		if sources["echo-upper"] != echoSource || sources["event-count"] != echoSource {
			t.Fatalf("sources = %v, want echo-upper and event-count from %s", sources, echoSource)
		}
		task, err := e.svc.Tasks().Get(ctx, "echo-upper")
		if err != nil {
			t.Fatal(err)
		}
		if !task.Enabled || task.Version != "1.0.0" || !strings.Contains(string(task.InputSchema), `"text"`) || task.Checksum == "" {
			t.Fatalf("echo-upper = %+v", task)
		}
	})

	t.Run("a JS task of the same name is kept and the clash reported", func(t *testing.T) {
		got, err := e.svc.Tasks().Get(ctx, "wait")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != js.ID || got.Source != "api" || got.Checksum != js.Checksum {
			t.Fatalf("wait = %+v, want the JS task %+v", got, js)
		}
		st := e.plugin("echo")
		if len(st.LoadErrors) != 1 || !strings.Contains(st.LoadErrors[0], "wait") {
			t.Fatalf("load errors = %q, want one about wait", st.LoadErrors)
		}
	})

	t.Run("sync execute", func(t *testing.T) {
		res, err := e.execute("echo-upper", `{"text":"hi"}`)
		if err != nil {
			t.Fatalf("execute: %v", err)
		}
		x := res.Execution
		if x.Status != core.ExecutionCompleted || string(x.Output) != `{"text":"HI"}` {
			t.Fatalf("execution = %s %s %s: %s", x.Status, x.Output, x.ErrorType, x.ErrorMessage)
		}
		if x.WorkerID != echoSource || x.DurationMS == nil {
			t.Fatalf("worker_id = %q, duration %v", x.WorkerID, x.DurationMS)
		}
	})

	t.Run("input is validated against the task's schema", func(t *testing.T) {
		res, err := e.execute("echo-upper", `{"text":5}`)
		if core.KindOf(err) != core.KindInputValidation {
			t.Fatalf("err = %v (%s), want InputValidationError", err, core.KindOf(err))
		}
		if res.Execution == nil || res.Execution.Status != core.ExecutionFailed ||
			res.Execution.ErrorType != string(core.KindInputValidation) {
			t.Fatalf("execution = %+v", res.Execution)
		}
	})

	t.Run("a job completes and events reach the plugin", func(t *testing.T) {
		before, _ := eventCount(t, e)
		j := e.enqueue(service.CreateJob{TaskRef: "echo-upper", Input: json.RawMessage(`{"text":"job"}`)})
		j = e.waitJob(j.ID, 20*time.Second, core.JobCompleted, core.JobFailed)
		if j.Status != core.JobCompleted || string(j.Output) != `{"text":"JOB"}` {
			t.Fatalf("job = %s %s %s: %s", j.Status, j.Output, j.ErrorType, j.ErrorMessage)
		}
		execs := e.executions(j.ID)
		if len(execs) != 1 || execs[0].WorkerID != echoSource || execs[0].Attempt != 1 {
			t.Fatalf("executions = %+v", execs)
		}
		var byType map[string]int
		eventually(t, 10*time.Second, "the job's events at the plugin", func() bool {
			var total int
			total, byType = eventCount(t, e)
			return total >= before+4 && byType[string(core.EventJobCompleted)] >= 1 &&
				byType[string(core.EventJobQueued)] >= 1 && byType[string(core.EventJobStarted)] >= 1
		})
		if byType[string(core.EventExecutionFinished)] < 1 {
			t.Fatalf("by_type = %v, want execution.finished too", byType)
		}
	})

	t.Run("a failing job keeps its kind and is not retried", func(t *testing.T) {
		j := e.enqueue(service.CreateJob{TaskRef: "echo-upper", Input: json.RawMessage(`{}`), MaxRetries: ptr(3)})
		j = e.waitJob(j.ID, 20*time.Second, core.JobFailed, core.JobCompleted, core.JobRetrying)
		if j.Status != core.JobFailed || j.ErrorType != string(core.KindInputValidation) || j.Attempts != 1 {
			t.Fatalf("job = %s attempts %d %s: %s", j.Status, j.Attempts, j.ErrorType, j.ErrorMessage)
		}
	})

	t.Run("kill -9 of the plugin fails calls cleanly, then it is back", func(t *testing.T) {
		st := e.plugin("echo")
		if st.State != host.StateRunning || st.PID == 0 {
			t.Fatalf("plugin = %+v", st)
		}
		if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		res, err := e.execute("echo-upper", `{"text":"down"}`)
		if k := core.KindOf(err); k != core.KindWorkerCrash && k != core.KindServiceUnavailable {
			t.Fatalf("err = %v (%s), want WorkerCrashError or ServiceUnavailableError", err, k)
		}
		if res.Execution == nil || res.Execution.Status != core.ExecutionFailed {
			t.Fatalf("execution = %+v", res.Execution)
		}
		eventually(t, 20*time.Second, "the plugin restarted", func() bool {
			st := e.plugin("echo")
			return st.State == host.StateRunning && st.Restarts >= 1 && st.PID != 0
		})
		res, err = e.execute("echo-upper", `{"text":"up"}`)
		if err != nil || string(res.Execution.Output) != `{"text":"UP"}` {
			t.Fatalf("after restart: %v %+v", err, res.Execution)
		}
		j := e.enqueue(service.CreateJob{TaskRef: "echo-upper", Input: json.RawMessage(`{"text":"again"}`)})
		if j = e.waitJob(j.ID, 20*time.Second, core.JobCompleted, core.JobFailed); j.Status != core.JobCompleted {
			t.Fatalf("job after restart = %s %s: %s", j.Status, j.ErrorType, j.ErrorMessage)
		}
	})

	t.Run("a restarted plugin registers its tasks again", func(t *testing.T) {
		if err := e.svc.Tasks().Delete(ctx, "event-count"); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(e.plugin("echo").PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, "event-count registered again", func() bool {
			task, err := e.svc.Tasks().Get(ctx, "event-count")
			return err == nil && task.Source == echoSource
		})
	})

	t.Run("JS tasks still run", func(t *testing.T) {
		res, err := e.execute("wait", `{"x":1}`)
		if err != nil || res.Execution.Status != core.ExecutionCompleted || strings.HasPrefix(res.Execution.WorkerID, "plugin:") {
			t.Fatalf("JS task: %v %+v", err, res.Execution)
		}
	})
}

// With schema validation off, the plugin's own ValidationError reaches the
// caller with its kind and details.
func TestPluginTaskErrorKeepsItsKind(t *testing.T) {
	dir := buildEchoPlugin(t)
	e := newEnv(t, "", workers(1), withPlugins(dir), func(c *config.Config, _ *app.Options) {
		c.Execution.ValidateSchemas = false
	})
	res, err := e.execute("echo-upper", `{}`)
	ce, ok := err.(*core.Error)
	if !ok || ce.Kind != core.KindValidation || ce.Details["field"] != "text" {
		t.Fatalf("err = %#v, want a ValidationError with details.field text", err)
	}
	if res.Execution == nil || res.Execution.ErrorType != string(core.KindValidation) ||
		!strings.Contains(string(res.Execution.ErrorDetails), `"field":"text"`) {
		t.Fatalf("execution = %+v", res.Execution)
	}
}

// A plugin task honours the execution's timeout: the plugin's call is cut
// at the deadline and the execution fails as a TimeoutError.
func TestPluginTaskTimeout(t *testing.T) {
	dir := buildEchoPlugin(t)
	e := newEnv(t, "", workers(1), withPlugins(dir))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	started := time.Now()
	res, err := e.svc.Tasks().Execute(ctx, "wait", service.ExecuteTask{Input: json.RawMessage(`{"ms":60000}`), TimeoutSeconds: 1})
	if core.KindOf(err) != core.KindTimeout {
		t.Fatalf("err = %v (%s), want TimeoutError", err, core.KindOf(err))
	}
	if took := time.Since(started); took > 10*time.Second {
		t.Fatalf("took %s", took)
	}
	if res.Execution == nil || res.Execution.ErrorType != string(core.KindTimeout) {
		t.Fatalf("execution = %+v", res.Execution)
	}
	// The plugin survives a timed-out call.
	if res, err := e.execute("echo-upper", `{"text":"ok"}`); err != nil || string(res.Execution.Output) != `{"text":"OK"}` {
		t.Fatalf("after the timeout: %v %+v", err, res)
	}
}
