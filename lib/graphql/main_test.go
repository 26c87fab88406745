package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/graphql"
	"github.com/ratchet-go/ratchet/lib/server"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// envWorker makes the test binary a worker process serving the JavaScript
// engine, as the hidden `ratchet worker` command does.
const envWorker = "RATCHET_GRAPHQL_TEST_WORKER"

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
	dir, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "docs", "examples", "tasks"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Static API keys of the environments with authentication on.
const (
	viewerKey   = "rk_viewer_test_key"
	operatorKey = "rk_operator_test_key"
)

// env is a real app (SQLite in a temporary directory, worker processes)
// behind lib/server with GraphQL mounted, served by httptest.
type env struct {
	t    testing.TB
	app  *app.App
	http *httptest.Server
	key  string // sent as a Bearer token when set
}

type envConfig struct {
	auth bool
	opts graphql.Options
}

func newEnv(t testing.TB, ec envConfig) *env {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "ratchet.db")
	cfg.Server.Workers.WorkerCount = 2
	cfg.Server.Workers.HealthCheckIntervalSeconds = 30
	cfg.Server.RateLimit.Enabled = false
	cfg.Registry.Sources = []config.RegistrySource{{Name: "examples", URI: "file://" + examplesDir(t)}}
	cfg.HTTP.DeniedHosts = []string{"api.open-meteo.com"}
	if ec.auth {
		cfg.Server.Auth.Enabled = true
		cfg.Server.Auth.APIKeys = []config.APIKey{
			{Name: "viewer", Key: viewerKey, Role: "viewer"},
			{Name: "operator", Key: operatorKey, Role: "operator"},
		}
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() && os.Getenv("RATCHET_GRAPHQL_TEST_LOG") != "" {
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
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("app.Stop: %v", err)
		}
	})
	scfg := server.ConfigFrom(cfg)
	scfg.Port = 0
	scfg.Version, scfg.Node = "test", "node-a"
	srv, err := server.New(scfg, server.Deps{Logger: log})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ec.opts.Logger = log
	if err := graphql.Register(srv.Echo(), a.Service(), a.Bus(), ec.opts); err != nil {
		t.Fatalf("graphql.Register: %v", err)
	}
	e := &env{t: t, app: a, http: httptest.NewServer(srv.Handler())}
	t.Cleanup(e.http.Close)
	e.waitTasks()
	return e
}

// waitTasks waits for the registry to load the example tasks.
func (e *env) waitTasks() {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := e.app.Store().Tasks().GetByRef(context.Background(), "addition"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal("the registry did not load the example tasks in 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gqlError is one error of a GraphQL answer.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// result is a GraphQL answer.
type result struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	Body   []byte          `json:"-"`
}

// decode decodes data into v, failing on errors.
func (r result) decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %s", r.Body)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Data, err)
	}
}

// only returns the one error of r.
func (r result) only(t testing.TB) gqlError {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("want one error, got %s", r.Body)
	}
	return r.Errors[0]
}

// post sends a GraphQL request by POST.
func (e *env) post(query string, vars map[string]any) result {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return e.send(req)
}

// get sends a GraphQL request by GET.
func (e *env) get(query string, vars map[string]any) result {
	e.t.Helper()
	v := url.Values{"query": {query}}
	if vars != nil {
		b, _ := json.Marshal(vars)
		v.Set("variables", string(b))
	}
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/graphql?"+v.Encode(), nil)
	return e.send(req)
}

func (e *env) send(req *http.Request) result {
	e.t.Helper()
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := result{Status: resp.StatusCode, Body: b}
	if err := json.Unmarshal(b, &r); err != nil {
		e.t.Fatalf("%s %s: status %d, body %s is not JSON: %v", req.Method, req.URL, resp.StatusCode, b, err)
	}
	return r
}

// withKey is e sending key.
func (e *env) withKey(key string) *env {
	c := *e
	c.key = key
	return &c
}
