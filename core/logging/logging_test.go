package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
)

// jsonLogger returns a logger writing JSON through NewHandler, and a
// function decoding the lines written so far.
func jsonLogger(t *testing.T, level slog.Leveler) (*slog.Logger, func() []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	logger := slog.New(NewHandler(&buf, FormatJSON, level))
	return logger, func() []map[string]any {
		t.Helper()
		var lines []map[string]any
		for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("log line %q is not JSON: %v", line, err)
			}
			lines = append(lines, m)
		}
		return lines
	}
}

func onlyLine(t *testing.T, lines []map[string]any) map[string]any {
	t.Helper()
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1: %v", len(lines), lines)
	}
	return lines[0]
}

func TestContextAttributesAreLogged(t *testing.T) {
	t.Parallel()
	logger, lines := jsonLogger(t, slog.LevelInfo)

	ctx := WithRequestID(t.Context(), "req-1")
	ctx = WithJobID(ctx, 42)
	ctx = WithExecutionID(ctx, 7)
	ctx = WithTask(ctx, "add-numbers")
	ctx = WithWorkerID(ctx, "w-3")
	ctx = WithAttrs(ctx, slog.String("node", "n1"))
	logger.InfoContext(ctx, "job claimed", slog.Int("attempt", 2))

	got := onlyLine(t, lines())
	want := map[string]any{
		"msg": "job claimed", "request_id": "req-1", "job_id": 42.0, "execution_id": 7.0,
		"task": "add-numbers", "worker_id": "w-3", "node": "n1", "attempt": 2.0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (line %v)", k, got[k], v, got)
		}
	}
}

func TestNoContextAttributes(t *testing.T) {
	t.Parallel()
	logger, lines := jsonLogger(t, slog.LevelInfo)
	logger.InfoContext(t.Context(), "plain", "k", "v")
	logger.Info("no context")

	got := lines()
	if len(got) != 2 {
		t.Fatalf("got %d lines, want 2", len(got))
	}
	if got[0]["k"] != "v" {
		t.Errorf("k = %v, want v", got[0]["k"])
	}
	if _, ok := got[0][KeyRequestID]; ok {
		t.Errorf("unexpected request_id in %v", got[0])
	}
}

func TestWithAttrsReplacesAndDoesNotMutateParent(t *testing.T) {
	t.Parallel()
	parent := WithExecutionID(t.Context(), 1)
	parent = WithTask(parent, "t")
	child := WithExecutionID(parent, 2)
	sibling := WithExecutionID(parent, 3)

	for _, tc := range []struct {
		name string
		ctx  context.Context
		want int64
	}{{"parent", parent, 1}, {"child", child, 2}, {"sibling", sibling, 3}} {
		got, ok := ExecutionIDFrom(tc.ctx)
		if !ok || got != tc.want {
			t.Errorf("%s: ExecutionIDFrom = %d, %v; want %d, true", tc.name, got, ok, tc.want)
		}
		if n := len(Attrs(tc.ctx)); n != 2 {
			t.Errorf("%s: %d attributes, want 2 (execution_id replaced, not added)", tc.name, n)
		}
	}
}

func TestWithAttrsIgnoresEmptyKeysAndNoAttrs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if WithAttrs(ctx) != ctx {
		t.Error("WithAttrs with no attributes should return ctx itself")
	}
	if n := len(Attrs(WithAttrs(ctx, slog.String("", "x")))); n != 0 {
		t.Errorf("empty key kept: %d attributes", n)
	}
}

func TestFromAccessors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if _, ok := RequestIDFrom(ctx); ok {
		t.Error("RequestIDFrom on an empty context reported an id")
	}
	if _, ok := JobIDFrom(ctx); ok {
		t.Error("JobIDFrom on an empty context reported an id")
	}
	// A value of the wrong kind under a known key is not reported.
	if _, ok := JobIDFrom(WithAttrs(ctx, slog.String(KeyJobID, "x"))); ok {
		t.Error("JobIDFrom accepted a string job_id")
	}
	ctx = WithRequestID(WithJobID(ctx, 9), "abc")
	if id, ok := RequestIDFrom(ctx); !ok || id != "abc" {
		t.Errorf("RequestIDFrom = %q, %v", id, ok)
	}
	if id, ok := JobIDFrom(ctx); !ok || id != 9 {
		t.Errorf("JobIDFrom = %d, %v", id, ok)
	}
	if _, ok := RequestIDFrom(nil); ok {
		t.Error("RequestIDFrom(nil) reported an id")
	}
}

func TestRecordAttributeWinsOverContext(t *testing.T) {
	t.Parallel()
	logger, lines := jsonLogger(t, slog.LevelInfo)
	ctx := WithJobID(t.Context(), 1)
	logger.InfoContext(ctx, "override", slog.Int64(KeyJobID, 2))

	line := onlyLine(t, lines())
	if line[KeyJobID] != 2.0 {
		t.Errorf("job_id = %v, want the record's 2", line[KeyJobID])
	}
}

func TestContextAttributesStayTopLevelUnderGroups(t *testing.T) {
	t.Parallel()
	logger, lines := jsonLogger(t, slog.LevelInfo)
	ctx := WithRequestID(t.Context(), "r")

	logger.With("svc", "api").WithGroup("http").With("method", "GET").
		WithGroup("resp").InfoContext(ctx, "done", "status", 200)
	logger.WithGroup("empty").InfoContext(ctx, "no attrs in group")

	got := lines()
	if len(got) != 2 {
		t.Fatalf("got %d lines, want 2", len(got))
	}
	first := got[0]
	if first[KeyRequestID] != "r" || first["svc"] != "api" {
		t.Errorf("top level lacks request_id or svc: %v", first)
	}
	httpGroup, _ := first["http"].(map[string]any)
	if httpGroup["method"] != "GET" {
		t.Errorf("http.method = %v in %v", httpGroup["method"], first)
	}
	resp, _ := httpGroup["resp"].(map[string]any)
	if resp["status"] != 200.0 {
		t.Errorf("http.resp.status = %v in %v", resp["status"], first)
	}
	if _, ok := httpGroup[KeyRequestID]; ok {
		t.Errorf("request_id nested in a group: %v", first)
	}

	second := got[1]
	if _, ok := second["empty"]; ok {
		t.Errorf("an empty group was written: %v", second)
	}
	if second[KeyRequestID] != "r" {
		t.Errorf("request_id missing: %v", second)
	}
}

func TestLevelIsRespected(t *testing.T) {
	t.Parallel()
	var level slog.LevelVar
	level.Set(slog.LevelWarn)
	logger, lines := jsonLogger(t, &level)
	ctx := WithJobID(t.Context(), 1)

	logger.InfoContext(ctx, "hidden")
	logger.WarnContext(ctx, "shown")
	level.Set(slog.LevelDebug)
	logger.DebugContext(ctx, "shown after lowering")

	got := lines()
	if len(got) != 2 || got[0]["msg"] != "shown" || got[1]["msg"] != "shown after lowering" {
		t.Errorf("lines = %v", got)
	}
}

func TestNewHandlerFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format string
		want   string
	}{
		{FormatText, `level=INFO msg=hello request_id=abc n=1`},
		{"TEXT", `level=INFO msg=hello request_id=abc n=1`},
		{"", `level=INFO msg=hello request_id=abc n=1`},
		{FormatJSON, `"level":"INFO","msg":"hello","request_id":"abc","n":1}`},
		{"Json", `"level":"INFO","msg":"hello","request_id":"abc","n":1}`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			slog.New(NewHandler(&buf, tc.format, nil)).
				InfoContext(WithRequestID(t.Context(), "abc"), "hello", "n", 1)
			if !strings.Contains(buf.String(), tc.want) {
				t.Errorf("output %q does not contain %q", buf.String(), tc.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"text": FormatText, " JSON ": FormatJSON, "": FormatText} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseFormat("xml")
	if err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "json") {
		t.Errorf("ParseFormat(xml) error = %v, want one naming the value and the allowed formats", err)
	}
}

func TestParseLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want slog.Level
		ok   bool
	}{
		{"debug", slog.LevelDebug, true},
		{"DEBUG", slog.LevelDebug, true},
		{" info ", slog.LevelInfo, true},
		{"warn", slog.LevelWarn, true},
		{"Warning", slog.LevelWarn, true},
		{"error", slog.LevelError, true},
		{"info+2", slog.LevelInfo + 2, true},
		{"debug-4", slog.LevelDebug - 4, true},
		{"", 0, false},
		{"verbose", 0, false},
		{"3", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLevel(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParseLevel(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "debug, info, warn and error") {
					t.Errorf("error %q does not say what is allowed", err)
				}
				return
			}
			if got != tc.want {
				t.Errorf("ParseLevel(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzParseLevel(f *testing.F) {
	for _, s := range []string{"debug", "INFO", "warning", "error+1", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLevel(s)
		if err != nil {
			return
		}
		// A parsed level round-trips through its own name.
		back, err := ParseLevel(l.String())
		if err != nil || back != l {
			t.Errorf("ParseLevel(%q) = %v, but ParseLevel(%q) = %v, %v", s, l, l.String(), back, err)
		}
	})
}

// TestSlogConformance runs the standard library's handler test suite, so the
// wrapper keeps every slog.Handler rule (groups, empty attributes, ...).
func TestSlogConformance(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return NewContextHandler(slog.NewJSONHandler(&buf, nil))
	}, func(t *testing.T) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatalf("decoding %q: %v", buf.Bytes(), err)
		}
		return m
	})
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(NewHandler(lockedWriter{&mu, &buf}, FormatJSON, nil)).WithGroup("g").With("a", 1)
	base := WithTask(t.Context(), "t")

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ctx := WithJobID(base, int64(i))
			for range 50 {
				logger.InfoContext(ctx, "tick", "i", i)
			}
		})
	}
	wg.Wait()
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestNewContextHandlerNilPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewContextHandler(nil) did not panic")
		}
	}()
	NewContextHandler(nil)
}
