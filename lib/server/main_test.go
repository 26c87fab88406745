package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core/logging"
	"github.com/ratchet-go/ratchet/lib/server"
	"github.com/ratchet-go/ratchet/lib/server/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines are the log records, decoded.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// withMsg are the records whose msg is msg.
func (l *logBuffer) withMsg(t *testing.T, msg string) []map[string]any {
	var out []map[string]any
	for _, m := range l.lines(t) {
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// testConfig is the default configuration's server settings, with rate
// limiting off (tests that need it turn it on).
func testConfig() server.Config {
	c := server.ConfigFrom(config.Default())
	c.Port = 0
	c.RateLimit.Enabled = false
	c.Version, c.Commit, c.BuildDate, c.Node = "1.2.3", "abc1234", "2026-01-02", "node-1"
	return c
}

type testServer struct {
	*server.Server
	logs *logBuffer
}

func newServer(t *testing.T, cfg server.Config, deps server.Deps) *testServer {
	t.Helper()
	logs := &logBuffer{}
	deps.Logger = slog.New(logging.NewContextHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if deps.Metrics == nil {
		deps.Metrics = metrics.New(metrics.Options{Version: cfg.Version, NoRuntimeCollectors: true})
	}
	s, err := server.New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &testServer{Server: s, logs: logs}
}

// request describes one test request.
type request struct {
	method, path, body string
	header             map[string]string
	remoteAddr         string
}

func (s *testServer) do(t *testing.T, r request) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequestWithContext(t.Context(), r.method, r.path, body)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.remoteAddr != "" {
		req.RemoteAddr = r.remoteAddr
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func (s *testServer) get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	return s.do(t, request{path: path})
}

// envelope decodes an error answer, checking its shape: every field of
// SPEC §4.1 present, top-level message and statusCode repeating the
// error's, trace_id the X-Request-ID.
func envelope(t *testing.T, rec *httptest.ResponseRecorder) apitypes.ErrorEnvelope {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type %q, body %s", ct, rec.Body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	for _, k := range []string{"error", "message", "statusCode"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("envelope lacks %q: %s", k, rec.Body)
		}
	}
	var inner map[string]json.RawMessage
	_ = json.Unmarshal(raw["error"], &inner)
	for _, k := range []string{"type", "message", "code", "details", "trace_id", "timestamp"} {
		if _, ok := inner[k]; !ok {
			t.Errorf("envelope.error lacks %q: %s", k, rec.Body)
		}
	}
	var env apitypes.ErrorEnvelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	if env.StatusCode != rec.Code || env.Message != env.Error.Message {
		t.Errorf("envelope statusCode %d / message %q do not repeat status %d / error.message %q",
			env.StatusCode, env.Message, rec.Code, env.Error.Message)
	}
	if id := rec.Header().Get("X-Request-ID"); id == "" || env.Error.TraceID != id {
		t.Errorf("trace_id %q, X-Request-ID %q", env.Error.TraceID, id)
	}
	if env.Error.Timestamp.IsZero() {
		t.Error("zero timestamp")
	}
	return env
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return v
}

func depsNone() server.Deps { return server.Deps{} }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// httpGet fetches url over a real connection and closes it.
func httpGet(t *testing.T, url string) (int, error) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
