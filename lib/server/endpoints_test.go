package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api"
	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server"
	"github.com/ratchet-go/ratchet/lib/server/health"
)

func check(name, status string) health.Checker {
	return health.CheckerFunc(name, func(context.Context) apitypes.HealthCheck {
		return apitypes.HealthCheck{Status: status, Message: name + " is " + status}
	})
}

func TestHealthReadyVersion(t *testing.T) {
	t.Parallel()
	t.Run("liveness", func(t *testing.T) {
		s := newServer(t, testConfig(), depsNone())
		rec := s.get(t, "/health")
		body := decode[map[string]any](t, rec)
		if rec.Code != 200 || body["status"] != "ok" || body["time"] == nil || body["uptime_seconds"] == nil {
			t.Errorf("%d %v", rec.Code, body)
		}
	})
	t.Run("detailed", func(t *testing.T) {
		tests := []struct {
			name   string
			checks []health.Checker
			status string
			code   int
		}{
			{"all ok", []health.Checker{check("database", "ok"), check("workers", "ok")}, "ok", 200},
			{"degraded", []health.Checker{check("database", "ok"), check("scheduler", "degraded")}, "degraded", 200},
			{"unhealthy", []health.Checker{check("database", "unhealthy"), check("workers", "degraded")}, "unhealthy", 503},
			{"no checkers", nil, "ok", 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newServer(t, testConfig(), server.Deps{Checkers: tt.checks,
					QueueDepth: func(context.Context) (int64, error) { return 17, nil }})
				rec := s.get(t, "/health/detailed")
				d := decode[apitypes.HealthDetailed](t, rec)
				if rec.Code != tt.code || d.Status != tt.status {
					t.Fatalf("%d %+v", rec.Code, d)
				}
				if d.QueueDepth != 17 || d.Version != "1.2.3" || d.Node != "node-1" || len(d.Checks) != len(tt.checks) {
					t.Errorf("%+v", d)
				}
				for _, c := range tt.checks {
					if got := d.Checks[c.Name()]; got.Message == "" {
						t.Errorf("check %s missing: %+v", c.Name(), d.Checks)
					}
				}
			})
		}
	})
	t.Run("ready", func(t *testing.T) {
		s := newServer(t, testConfig(), depsNone())
		rec := s.get(t, "/ready")
		r := decode[apitypes.Readiness](t, rec)
		if rec.Code != 503 || r.Ready || r.Status != "not_ready" {
			t.Fatalf("before SetReady: %d %+v", rec.Code, r)
		}
		s.SetReady(true, "")
		rec = s.get(t, "/ready")
		r = decode[apitypes.Readiness](t, rec)
		if rec.Code != 200 || !r.Ready || r.Status != "ready" {
			t.Fatalf("after SetReady: %d %+v", rec.Code, r)
		}
		s.SetReady(false, "draining")
		rec = s.get(t, "/ready")
		if r := decode[apitypes.Readiness](t, rec); rec.Code != 503 || r.Checks["server"].Message != "draining" {
			t.Fatalf("draining: %d %+v", rec.Code, r)
		}
	})
	t.Run("version", func(t *testing.T) {
		s := newServer(t, testConfig(), depsNone())
		v := decode[apitypes.Version](t, s.get(t, "/version"))
		want := apitypes.Version{Version: "1.2.3", Commit: "abc1234", BuildDate: "2026-01-02", GoVersion: runtime.Version(), APIVersion: "v1"}
		if v != want {
			t.Errorf("%+v, want %+v", v, want)
		}
	})
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), server.Deps{
		QueueDepth: func(context.Context) (int64, error) { return 5, nil },
		Workers: func(context.Context) ([]core.Worker, error) {
			return []core.Worker{{ID: "w1", Status: core.WorkerIdle}, {ID: "w2", Status: core.WorkerBusy}, {ID: "w3", Status: core.WorkerBusy}}, nil
		},
	})
	s.get(t, "/api/v1/openapi.json")
	s.get(t, "/api/v1/nope")
	s.Metrics().JobFinished("hello", core.JobCompleted)
	rec := s.get(t, "/metrics")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	text := rec.Body.String()
	for _, want := range []string{
		`ratchet_http_requests_total{method="GET",route="/api/v1/openapi.json",status="200"} 1`,
		`ratchet_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`ratchet_http_request_duration_seconds_count{method="GET",route="/api/v1/openapi.json"} 1`,
		`ratchet_queue_depth 5`,
		`ratchet_workers{state="busy"} 2`,
		`ratchet_workers{state="idle"} 1`,
		`ratchet_workers{state="crashed"} 0`,
		`ratchet_jobs_total{status="completed",task="hello"} 1`,
		`ratchet_build_info{commit="",go_version="` + runtime.Version() + `",version="1.2.3"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestOpenAPIAndReference(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), depsNone())
	tests := []struct {
		path, contentType string
		body              []byte
	}{
		{"/api/v1/openapi.json", "application/json", api.OpenAPIJSON()},
		{"/api/v1/openapi.yaml", "application/yaml", api.OpenAPIYAML()},
		{"/api/v1/docs", "text/html; charset=utf-8", api.ReferenceHTML()},
	}
	for _, tt := range tests {
		rec := s.get(t, tt.path)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != tt.contentType || !bytes.Equal(rec.Body.Bytes(), tt.body) {
			t.Errorf("%s: %d %q (%d bytes)", tt.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
		}
	}
	rec := s.get(t, "/api/v1/docs")
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	// Nothing loaded from anywhere.
	html := strings.ToLower(rec.Body.String())
	for _, bad := range []string{"<script src", "<link", "@import", "src=\"http", "url(http"} {
		if strings.Contains(html, bad) {
			t.Errorf("the reference page loads an external asset (%q)", bad)
		}
	}
}

func debugConfig() (*config.Config, server.Config) {
	app := config.Default()
	app.Server.Database.URL = "postgres://ratchet:db-password-123@db.example.com/ratchet"
	app.Server.Auth.APIKeys = []config.APIKey{{Name: "boss", Key: "admin-secret", Role: "admin"}, {Name: "ops", Key: "operator-secret", Role: "operator"}}
	app.Development.EnableDebugEndpoints = true
	cfg := server.ConfigFrom(app)
	cfg.Port, cfg.RateLimit.Enabled = 0, false
	return app, cfg
}

func TestDebugEndpoints(t *testing.T) {
	t.Parallel()
	paths := []string{"/debug/config", "/debug/workers", "/debug/queue", "/debug/errors", "/debug/pprof/", "/debug/pprof/goroutine?debug=1"}
	t.Run("absent when disabled", func(t *testing.T) {
		app, cfg := debugConfig()
		cfg.EnableDebugEndpoints = false
		s := newServer(t, cfg, server.Deps{AppConfig: app})
		for _, p := range paths {
			if rec := s.get(t, p); rec.Code != 404 {
				t.Errorf("GET %s: %d", p, rec.Code)
			}
		}
	})
	t.Run("present and redacted when enabled", func(t *testing.T) {
		app, cfg := debugConfig()
		s := newServer(t, cfg, server.Deps{
			AppConfig: app,
			Workers: func(context.Context) ([]core.Worker, error) {
				return []core.Worker{{ID: "w1", Status: core.WorkerIdle}}, nil
			},
			Queue: func(context.Context) (any, error) { return map[string]int{"queued": 3}, nil },
		})
		s.get(t, "/api/v1/missing-for-the-error-log")
		for _, p := range paths {
			if rec := s.get(t, p); rec.Code != 200 {
				t.Errorf("GET %s: %d %s", p, rec.Code, rec.Body)
			}
		}
		conf := s.get(t, "/debug/config").Body.String()
		for _, secret := range []string{"db-password-123", "admin-secret", "operator-secret"} {
			if strings.Contains(conf, secret) {
				t.Errorf("/debug/config shows %q", secret)
			}
		}
		if !strings.Contains(conf, `"enable_debug_endpoints": true`) && !strings.Contains(conf, `"enable_debug_endpoints":true`) {
			t.Errorf("/debug/config is not the configuration: %.300s", conf)
		}
		if w := s.get(t, "/debug/workers").Body.String(); !strings.Contains(w, `"w1"`) {
			t.Errorf("/debug/workers %s", w)
		}
		if q := s.get(t, "/debug/queue").Body.String(); !strings.Contains(q, `"queued":3`) {
			t.Errorf("/debug/queue %s", q)
		}
		errs := decode[[]map[string]any](t, s.get(t, "/debug/errors"))
		if len(errs) == 0 || errs[0]["path"] != "/api/v1/missing-for-the-error-log" {
			t.Errorf("/debug/errors %v", errs)
		}
	})
	t.Run("callbacks missing or failing", func(t *testing.T) {
		_, cfg := debugConfig()
		s := newServer(t, cfg, server.Deps{Queue: func(context.Context) (any, error) { return nil, errors.New("boom") }})
		if rec := s.get(t, "/debug/workers"); rec.Code != 503 {
			t.Errorf("/debug/workers without a callback: %d", rec.Code)
		}
		if rec := s.get(t, "/debug/config"); rec.Code != 503 {
			t.Errorf("/debug/config without a configuration: %d", rec.Code)
		}
		if rec := s.get(t, "/debug/queue"); rec.Code != 500 {
			t.Errorf("/debug/queue failing: %d", rec.Code)
		}
	})
	t.Run("admins only with auth", func(t *testing.T) {
		app, cfg := debugConfig()
		cfg.Auth.Enabled = true
		s := newServer(t, cfg, server.Deps{AppConfig: app})
		if rec := s.do(t, request{path: "/debug/config", header: bearer("operator-secret")}); rec.Code != 403 {
			t.Errorf("operator: %d", rec.Code)
		}
		if rec := s.do(t, request{path: "/debug/config"}); rec.Code != 401 {
			t.Errorf("no key: %d", rec.Code)
		}
		if rec := s.do(t, request{path: "/debug/pprof/", header: bearer("admin-secret")}); rec.Code != 200 {
			t.Errorf("admin: %d", rec.Code)
		}
	})
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), depsNone())
	if err := s.Stop(t.Context()); err != nil { // before Start: nothing to do
		t.Fatal(err)
	}
	s = newServer(t, testConfig(), depsNone())
	if s.Addr() != nil || s.URL() != "" {
		t.Fatal("address before Start")
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err == nil {
		t.Error("second Start succeeded")
	}
	url := s.URL()
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		t.Fatalf("URL %q", url)
	}
	resp, err := httpGet(t, url+"/health")
	if err != nil || resp != 200 {
		t.Fatalf("GET /health: %d %v", resp, err)
	}
	if lines := s.logs.withMsg(t, "HTTP server listening"); len(lines) != 1 || lines[0]["url"] != url || lines[0]["docs"] != url+"/api/v1/docs" {
		t.Errorf("start log %v", lines)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal("second Stop:", err)
	}
	if _, err := httpGet(t, url+"/health"); err == nil {
		t.Error("still serving after Stop")
	}
	if err := s.Start(t.Context()); err == nil {
		t.Error("Start after Stop succeeded")
	}
}

func TestStartAddressInUse(t *testing.T) {
	t.Parallel()
	a := newServer(t, testConfig(), depsNone())
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	cfg := testConfig()
	_, port, _ := strings.Cut(a.Addr().String(), "127.0.0.1:")
	cfg.Port = atoi(t, port)
	b := newServer(t, cfg, depsNone())
	if err := b.Start(t.Context()); err == nil {
		b.Stop(context.Background())
		t.Fatal("Start on a used port succeeded")
	}
}

func TestStopIsGraceful(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), depsNone())
	entered, release := make(chan struct{}), make(chan struct{})
	s.API().GET("/slow", func(c echo.Context) error {
		close(entered)
		<-release
		return c.String(http.StatusOK, "done")
	})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		code, _ := httpGet(t, s.URL()+"/api/v1/slow")
		got <- code
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned before the request in flight finished: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if rec := s.get(t, "/ready"); rec.Code != 503 {
		t.Errorf("/ready while stopping: %d", rec.Code)
	}
	close(release)
	if code := <-got; code != 200 {
		t.Errorf("the request in flight got %d", code)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

func TestStopDeadlineClosesConnections(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), depsNone())
	entered, release := make(chan struct{}), make(chan struct{})
	s.API().GET("/stuck", func(c echo.Context) error {
		close(entered)
		<-release
		return nil
	})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = httpGet(t, s.URL()+"/api/v1/stuck")
	}()
	<-entered
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop past its deadline: %v", err)
	}
	close(release)
	<-done
}
