package server_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/core/logging"
	"github.com/ratchet-go/ratchet/lib/server/apikey"
)

// mountTestRoutes adds handlers under /api/v1/test for the tests.
func mountTestRoutes(s *testServer) {
	g := s.API().Group("/test")
	g.POST("/echo", func(c echo.Context) error {
		var body struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
			Any   any    `json:"any"`
		}
		if err := c.Bind(&body); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, body)
	})
	g.GET("/panic", func(echo.Context) error { panic("boom: secret value") })
	g.GET("/internal", func(echo.Context) error { return errors.New("query failed: password=hunter2") })
	g.GET("/echo500", func(echo.Context) error {
		return echo.NewHTTPError(http.StatusInternalServerError, "stack: main.go:12")
	})
	g.GET("/queuefull", func(echo.Context) error {
		return core.Errorf(core.KindRateLimit, "the job queue is full")
	})
	g.GET("/conflict", func(echo.Context) error {
		return core.Errorf(core.KindConflict, "job 7 is finished").WithDetail("job_id", 7)
	})
	whoami := func(c echo.Context) error {
		id, _ := logging.RequestIDFrom(c.Request().Context())
		p, _ := apikey.PrincipalFrom(c.Request().Context())
		return c.JSON(http.StatusOK, map[string]any{"request_id": id, "name": p.Name, "role": p.Role, "source": p.Source})
	}
	g.GET("/whoami", whoami)
	g.POST("/whoami", whoami)
	g.DELETE("/whoami", whoami)
	s.API().DELETE("/apikeys/:id", whoami) // an admin route
}

func TestErrorEnvelopes(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.BodyLimit = 1 << 10
	cfg.MaxJSONDepth = 8
	s := newServer(t, cfg, depsNone())
	mountTestRoutes(s)

	deep := strings.Repeat("[", 9) + strings.Repeat("]", 9)
	okDeep := strings.Repeat("[", 8) + strings.Repeat("]", 8)
	tests := []struct {
		name     string
		req      request
		status   int
		typ      string
		code     string
		msgHas   string
		noBody   bool
		msgLacks string
	}{
		{name: "unknown route", req: request{path: "/api/v1/nope"}, status: 404, typ: "NotFoundError", code: "NOT_FOUND", msgHas: "no route for GET /api/v1/nope"},
		{name: "method not allowed", req: request{method: "POST", path: "/health"}, status: 405, typ: "HttpError", code: "HTTP", msgHas: "allowed: OPTIONS, GET"},
		{name: "HEAD gets no body", req: request{method: "HEAD", path: "/nope"}, status: 404, noBody: true},
		{name: "body over the limit (Content-Length)", req: request{method: "POST", path: "/api/v1/test/echo", body: `{"name":"` + strings.Repeat("x", 2000) + `"}`},
			status: 413, typ: "HttpError", code: "HTTP", msgHas: "limit is 1 KiB"},
		{name: "malformed JSON", req: request{method: "POST", path: "/api/v1/test/echo", body: `{"name": }`}, status: 400, typ: "InvalidArgumentError", code: "INVALID_ARGUMENT", msgHas: "malformed JSON body at offset"},
		{name: "truncated JSON", req: request{method: "POST", path: "/api/v1/test/echo", body: `{"name": "a"`}, status: 400, code: "INVALID_ARGUMENT", msgHas: "ends too early"},
		{name: "JSON too deep", req: request{method: "POST", path: "/api/v1/test/echo", body: `{"any":` + deep + `}`}, status: 400, code: "INVALID_ARGUMENT", msgHas: "nested too deeply: more than 8 levels"},
		{name: "JSON of the wrong type", req: request{method: "POST", path: "/api/v1/test/echo", body: `{"count":"three"}`}, status: 400, code: "INVALID_ARGUMENT", msgHas: "field count must be an integer, not string"},
		{name: "trailing data", req: request{method: "POST", path: "/api/v1/test/echo", body: `{"name":"a"} {"name":"b"}`}, status: 400, code: "INVALID_ARGUMENT", msgHas: "unexpected data after the JSON value"},
		{name: "not JSON", req: request{method: "POST", path: "/api/v1/test/echo", body: `name=a`, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
			status: 415, typ: "HttpError", code: "HTTP", msgHas: `unsupported Content-Type "application/x-www-form-urlencoded": send a JSON body`},
		{name: "typed error from a handler", req: request{path: "/api/v1/test/conflict"}, status: 409, typ: "ConflictError", code: "CONFLICT", msgHas: "job 7 is finished"},
		{name: "internal error hidden", req: request{path: "/api/v1/test/internal"}, status: 500, typ: "InternalError", code: "INTERNAL", msgHas: "internal server error", msgLacks: "hunter2"},
		{name: "echo 500 hidden", req: request{path: "/api/v1/test/echo500"}, status: 500, code: "INTERNAL", msgHas: "Internal Server Error", msgLacks: "main.go"},
	}
	t.Run("a 429 from a handler says when to retry", func(t *testing.T) {
		rec := s.do(t, request{path: "/api/v1/test/queuefull"})
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("status %d, Retry-After %q; want 429 with Retry-After 1", rec.Code, rec.Header().Get("Retry-After"))
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.do(t, tt.req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.noBody {
				if rec.Body.Len() != 0 {
					t.Errorf("HEAD answered a body: %s", rec.Body)
				}
				return
			}
			env := envelope(t, rec)
			if tt.typ != "" && env.Error.Type != tt.typ {
				t.Errorf("type %q, want %q", env.Error.Type, tt.typ)
			}
			if env.Error.Code != tt.code {
				t.Errorf("code %q, want %q", env.Error.Code, tt.code)
			}
			if !strings.Contains(env.Message, tt.msgHas) {
				t.Errorf("message %q lacks %q", env.Message, tt.msgHas)
			}
			if tt.msgLacks != "" && strings.Contains(rec.Body.String(), tt.msgLacks) {
				t.Errorf("body shows %q: %s", tt.msgLacks, rec.Body)
			}
		})
	}

	t.Run("JSON at the depth limit passes", func(t *testing.T) {
		rec := s.do(t, request{method: "POST", path: "/api/v1/test/echo", body: `{"any":` + okDeep[1:len(okDeep)-1] + `}`})
		if rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("streamed body over the limit", func(t *testing.T) {
		req := httptest.NewRequestWithContext(t.Context(), "POST", "/api/v1/test/echo", strings.NewReader(`{"name":"`+strings.Repeat("x", 2000)+`"}`))
		req.ContentLength = -1 // chunked: only reading finds out
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != 413 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		envelope(t, rec)
	})
	t.Run("details are kept", func(t *testing.T) {
		env := envelope(t, s.get(t, "/api/v1/test/conflict"))
		if env.Error.Details["job_id"] != float64(7) {
			t.Errorf("details %v", env.Error.Details)
		}
	})
	t.Run("internal errors are logged once with the request id", func(t *testing.T) {
		rec := s.do(t, request{path: "/api/v1/test/internal", header: map[string]string{"X-Request-ID": "req-internal-1"}})
		envelope(t, rec)
		var lines []map[string]any
		for _, l := range s.logs.withMsg(t, "request failed") {
			if l["request_id"] == "req-internal-1" {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 {
			t.Fatalf("%d 'request failed' lines for the request, want 1", len(lines))
		}
		if !strings.Contains(lines[0]["error"].(string), "hunter2") {
			t.Errorf("the log line lacks the cause: %v", lines[0])
		}
	})
}

func TestRecover(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), depsNone())
	mountTestRoutes(s)
	rec := s.do(t, request{path: "/api/v1/test/panic", header: map[string]string{"X-Request-ID": "req-panic"}})
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	env := envelope(t, rec)
	if env.Error.Type != "InternalError" || env.Message != "internal server error" {
		t.Errorf("envelope %+v", env)
	}
	if strings.Contains(rec.Body.String(), "boom") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Errorf("the panic reached the client: %s", rec.Body)
	}
	panics := s.logs.withMsg(t, "panic recovered in HTTP handler")
	if len(panics) != 1 {
		t.Fatalf("%d panic log lines, want 1", len(panics))
	}
	if panics[0]["request_id"] != "req-panic" || !strings.Contains(panics[0]["panic"].(string), "boom") ||
		!strings.Contains(panics[0]["stack"].(string), "goroutine") {
		t.Errorf("panic line %v", panics[0])
	}
	if n := len(s.logs.withMsg(t, "request failed")); n != 0 {
		t.Errorf("the panic was logged again (%d 'request failed' lines)", n)
	}
	// The access log still has the request, with its final status.
	var access []map[string]any
	for _, l := range s.logs.withMsg(t, "http request") {
		if l["request_id"] == "req-panic" {
			access = append(access, l)
		}
	}
	if len(access) != 1 || access[0]["status"] != float64(500) {
		t.Errorf("access log %v", access)
	}
	// The server still serves.
	if rec := s.get(t, "/health"); rec.Code != 200 {
		t.Errorf("after the panic: %d", rec.Code)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), depsNone())
	mountTestRoutes(s)
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"generated", "", false},
		{"propagated", "client-id_1.2:3", true},
		{"too long", strings.Repeat("a", 129), false},
		{"unsafe characters", "abc\"<script>", false},
		{"spaces", "a b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.sent != "" {
				h["X-Request-ID"] = tt.sent
			}
			rec := s.do(t, request{path: "/api/v1/test/whoami", header: h})
			got := rec.Header().Get("X-Request-ID")
			if tt.kept && got != tt.sent {
				t.Fatalf("X-Request-ID %q, want %q", got, tt.sent)
			}
			if !tt.kept && (got == tt.sent || len(got) != 36) {
				t.Fatalf("X-Request-ID %q: want a new UUID", got)
			}
			body := decode[map[string]any](t, rec)
			if body["request_id"] != got {
				t.Errorf("request id in the request context %v, header %q", body["request_id"], got)
			}
			found := false
			for _, l := range s.logs.withMsg(t, "http request") {
				found = found || l["request_id"] == got
			}
			if !found {
				t.Errorf("no access-log line with request_id %q", got)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), depsNone())
	mountTestRoutes(s)
	s.do(t, request{method: "POST", path: "/api/v1/test/echo", body: `{"name":"x"}`, header: map[string]string{"X-Request-ID": "acc-1"}})
	s.get(t, "/health")
	var line map[string]any
	for _, l := range s.logs.withMsg(t, "http request") {
		if l["request_id"] == "acc-1" {
			line = l
		}
	}
	want := map[string]any{"level": "INFO", "method": "POST", "path": "/api/v1/test/echo", "route": "/api/v1/test/echo",
		"status": float64(200), "client_ip": "192.0.2.1"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	if b, _ := line["bytes"].(float64); b <= 0 {
		t.Errorf("bytes %v", line["bytes"])
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms %v", line["duration_ms"])
	}
	for _, l := range s.logs.withMsg(t, "http request") {
		if l["path"] == "/health" && l["level"] != "DEBUG" {
			t.Errorf("probe logged at %v", l["level"])
		}
	}
}

// TestHeadOnGetRoutes: HEAD answers every GET route with its status and
// headers and no body, over a real connection (net/http drops the body).
func TestHeadOnGetRoutes(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), depsNone())
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	for path, want := range map[string]int{"/health": 200, "/version": 200, "/nope": 404} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || len(body) != 0 {
			t.Errorf("HEAD %s = %d with %d body bytes, want %d and none", path, resp.StatusCode, len(body), want)
		}
	}
}
