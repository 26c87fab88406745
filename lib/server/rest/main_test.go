package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/delivery"
	"github.com/ratchet-go/ratchet/lib/registry"
	"github.com/ratchet-go/ratchet/lib/server"
	"github.com/ratchet-go/ratchet/lib/server/rest"
	"github.com/ratchet-go/ratchet/lib/service"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// envWorker makes the test binary a worker process serving the JavaScript
// engine, as the hidden `ratchet worker` command does.
const envWorker = "RATCHET_REST_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(envWorker) != "" {
		if err := worker.Serve(worker.ServeConfig{}); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m,
		// database/sql's connection opener outlives Close briefly.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
	)
}

func workerCommand(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = []string{envWorker + "=1"}
	return cmd
}

// examplesDir is the shipped example tasks (docs/examples/tasks).
func examplesDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "..", "docs", "examples", "tasks"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// env is a real app (SQLite in a temporary directory, worker processes)
// behind lib/server with the REST routes, served by httptest.
type env struct {
	t      testing.TB
	app    *app.App
	svc    *service.Service
	srv    *server.Server
	http   *httptest.Server
	client *client.Client
	root   string // the examples folder, normalised out of golden files
}

type envOption func(*config.Config)

// newEnv starts an app whose registry source is the example tasks.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "ratchet.db")
	cfg.Server.Workers.WorkerCount = 2
	cfg.Server.Workers.HealthCheckIntervalSeconds = 30
	cfg.Server.RateLimit.Enabled = false
	root := examplesDir(t)
	cfg.Registry.Sources = []config.RegistrySource{{Name: "examples", URI: "file://" + root}}
	// The network is off in these tests: fetch to the weather API fails
	// fast and the same way everywhere.
	cfg.HTTP.DeniedHosts = []string{"api.open-meteo.com"}
	for _, o := range opts {
		o(cfg)
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() && os.Getenv("RATCHET_REST_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := app.New(cfg, app.Options{
		Logger: log, WorkerCommand: workerCommand, Node: "node-a",
		Dispatcher: app.DispatcherOptions{LeaseDuration: 5 * time.Second, PollInterval: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatalf("app.Start: %v", err)
	}
	e := &env{t: t, app: a, root: root}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("app.Stop: %v", err)
		}
	})
	e.seedExamples()
	e.svc = a.Service()
	if _, err := e.svc.Tasks().Create(ctx, service.TaskUpload{}); core.KindOf(err) == core.KindServiceUnavailable {
		e.svc = e.serviceWithRegistry(cfg, log)
	}

	scfg := server.ConfigFrom(cfg)
	scfg.Port = 0
	scfg.Version, scfg.Node = "test", "node-a"
	e.srv, err = server.New(scfg, server.Deps{Logger: log})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := rest.Register(e.srv.API(), e.svc, rest.Options{Logger: log}); err != nil {
		t.Fatalf("rest.Register: %v", err)
	}
	e.http = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.http.Close)
	e.client, err = client.New(e.http.URL)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// seedExamples stores the example tasks through the store when the app's
// registry did not load them (while lib/app builds no registry).
func (e *env) seedExamples() {
	e.t.Helper()
	ctx := context.Background()
	for _, name := range []string{"addition", "async-pipeline", "order-validation", "weather-api"} {
		if _, err := e.app.Store().Tasks().GetByRef(ctx, name); err == nil {
			continue // loaded by the registry
		}
		tk, err := taskfmt.Load(filepath.Join(e.root, name))
		if err != nil {
			e.t.Fatalf("loading %s: %v", name, err)
		}
		tests, _ := json.Marshal(tk.Tests)
		_, err = e.app.Store().Tasks().Create(ctx, core.Task{
			Name: tk.Name, UUID: tk.UUID, Label: tk.Label, Version: tk.Version, Description: tk.Description,
			Tags: tk.Tags, Author: tk.Author, Timeout: tk.Timeout, Enabled: true, Metadata: tk.Metadata,
			InputSchema: tk.InputSchema, OutputSchema: tk.OutputSchema, Source: "file://" + filepath.Join(e.root, name),
		}, &core.TaskVersion{
			Version: tk.Version, Code: tk.Code, InputSchema: tk.InputSchema, OutputSchema: tk.OutputSchema,
			Metadata: tk.Metadata, Tests: tests,
		})
		if err != nil && core.KindOf(err) != core.KindConflict {
			e.t.Fatalf("storing %s: %v", name, err)
		}
	}
}

// serviceWithRegistry is a service over the app's components with a task
// registry for uploads, for while lib/app builds none (its newRegistry is
// a stub): the same adapter the composition root needs.
func (e *env) serviceWithRegistry(cfg *config.Config, log *slog.Logger) *service.Service {
	e.t.Helper()
	reg, err := registry.New(e.app.Store(), registry.Config{}, log)
	if err != nil {
		e.t.Fatal(err)
	}
	a := e.app
	svc, err := service.New(service.Deps{
		Store: a.Store(), Dispatcher: a.Dispatcher(), Pool: a.Pool(), Registry: registryAdapter{reg},
		Scheduler: a.Scheduler(), Publisher: a.Bus(), Subscriber: a.Bus(), Logger: log,
	}, service.Config{
		MaxQueueSize: cfg.Server.JobQueue.MaxQueueSize, DefaultMaxRetries: cfg.Server.JobQueue.DefaultMaxRetries,
		DefaultRetryDelay: cfg.Server.JobQueue.DefaultRetryDelay, MaxInputBytes: cfg.Execution.MaxInputBytes,
		SyncTimeout: cfg.Execution.MaxExecutionDuration, ValidateDestinations: delivery.ValidateDestinations,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// registryAdapter is service.Registry over *registry.Registry.
type registryAdapter struct{ r *registry.Registry }

func (a registryAdapter) files(up service.TaskUpload) (map[string][]byte, error) {
	if len(up.Zip) == 0 {
		return up.Files, nil
	}
	files, err := taskfmt.ReadZip(up.Zip)
	if err != nil {
		return nil, core.WrapError(core.KindInvalidArgument, err, "reading the zip")
	}
	return files, nil
}

func (a registryAdapter) CreateTask(ctx context.Context, up service.TaskUpload) (core.Task, error) {
	files, err := a.files(up)
	if err != nil {
		return core.Task{}, err
	}
	return a.r.CreateFromFiles(ctx, up.Name, files)
}

func (a registryAdapter) UpdateTask(ctx context.Context, id int64, up service.TaskUpload) (core.Task, error) {
	files, err := a.files(up)
	if err != nil {
		return core.Task{}, err
	}
	return a.r.UpdateFromFiles(ctx, strconv.FormatInt(id, 10), files)
}

func (a registryAdapter) DeleteTask(ctx context.Context, id int64) error {
	return a.r.Delete(ctx, strconv.FormatInt(id, 10))
}

// response is one HTTP answer, read.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
}

// envelope decodes an error answer.
func (r response) envelope(t testing.TB) apitypes.ErrorEnvelope {
	t.Helper()
	var env apitypes.ErrorEnvelope
	r.decode(t, &env)
	return env
}

// do sends a request; body is JSON-encoded unless it is a string or
// []byte (sent as is, as JSON unless contentType says otherwise).
func (e *env) do(method, path string, body any, header ...string) response {
	e.t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, contentType = strings.NewReader(b), "application/json"
	case []byte:
		rd, contentType = bytes.NewReader(b), "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// expect fails unless r has status want.
func expect(t testing.TB, r response, want int, what string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, want, r.Body)
	}
}

// waitJob polls the job through the API until it is finished.
func (e *env) waitJob(id int64) *apitypes.Job {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := e.client.GetJob(context.Background(), id)
		if err != nil {
			e.t.Fatalf("GetJob(%d): %v", id, err)
		}
		if j.Status.Terminal() {
			return j
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %d still %s after 30s", id, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }

// storeTask stores a task given as a CreateTaskRequest-shaped map through
// the store (for when the app has no registry to upload through).
func (e *env) storeTask(name string, req map[string]any) {
	e.t.Helper()
	files := map[string][]byte{}
	raw := func(v any) []byte { b, _ := json.Marshal(v); return b }
	files[taskfmt.MainFile] = []byte(req["code"].(string))
	if v, ok := req["metadata"]; ok {
		files[taskfmt.MetadataFile] = raw(v)
	}
	if v, ok := req["input_schema"]; ok {
		files[taskfmt.InputSchemaFile] = raw(v)
	}
	if v, ok := req["output_schema"]; ok {
		files[taskfmt.OutputSchemaFile] = raw(v)
	}
	if tests, ok := req["tests"].([]any); ok {
		for i, tc := range tests {
			files[fmt.Sprintf("tests/%03d.json", i+1)] = raw(tc)
		}
	}
	tk, err := taskfmt.FromFiles(name, files)
	if err != nil {
		// Code that does not compile: store it as given.
		tk = &taskfmt.Task{Name: name, Version: taskfmt.DefaultVersion, Code: req["code"].(string), Metadata: []byte("{}")}
	}
	tests, _ := json.Marshal(tk.Tests)
	_, err = e.app.Store().Tasks().Create(context.Background(), core.Task{
		Name: tk.Name, UUID: tk.UUID, Label: tk.Label, Version: tk.Version, Description: tk.Description,
		Tags: tk.Tags, Author: tk.Author, Timeout: tk.Timeout, Enabled: true, Metadata: tk.Metadata,
		InputSchema: tk.InputSchema, OutputSchema: tk.OutputSchema, Source: "api",
	}, &core.TaskVersion{
		Version: tk.Version, Code: tk.Code, InputSchema: tk.InputSchema, OutputSchema: tk.OutputSchema,
		Metadata: tk.Metadata, Tests: tests,
	})
	if err != nil {
		e.t.Fatalf("storing %s: %v", name, err)
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
