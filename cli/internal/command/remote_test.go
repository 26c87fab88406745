package command

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAPI serves the given routes ("METHOD /path" patterns of
// http.ServeMux) and fails the test on any other request. It returns the
// server's URL.
func fakeAPI(t *testing.T, routes map[string]http.HandlerFunc) string {
	t.Helper()
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusTeapot)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// envelope is the server's error body.
func envelope(status int, typ, msg string, details map[string]any) string {
	if details == nil {
		details = map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{
		"error": map[string]any{
			"type": typ, "message": msg, "code": strings.ToUpper(typ), "details": details,
			"trace_id": "req-1", "timestamp": "2025-01-02T03:04:05Z",
		},
		"message": msg, "statusCode": status,
	})
	return string(b)
}

func decodeBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Errorf("body is not a JSON object: %v", err)
	}
	return m
}

// unreachable is a URL nothing listens on.
func unreachable(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

const (
	taskJSON = `{"id":1,"uuid":"u-1","name":"addition","label":"Addition","version":"1.0.0","description":"Adds two numbers",` +
		`"tags":[],"author":"","enabled":true,"timeout_seconds":0,"input_schema":{"type":"object"},"output_schema":null,` +
		`"metadata":{},"source":"file:///tasks/addition","load_error":"","checksum":"abc","created_at":"2025-01-02T03:04:05Z",` +
		`"updated_at":"2025-01-02T03:04:05Z","extra_field":"kept"}`
	task2JSON = `{"id":2,"uuid":"u-2","name":"weather-api","label":"","version":"2.1.0","description":"` +
		`A very long description that goes on and on well beyond the width of any sensible table column",` +
		`"tags":["net"],"author":"","enabled":false,"timeout_seconds":30,"input_schema":null,"output_schema":null,` +
		`"metadata":{},"source":"api","load_error":"","checksum":"def","created_at":"2025-01-02T03:04:05Z",` +
		`"updated_at":"2025-01-02T03:04:05Z"}`
)

func jobJSON(id int, status, errType, errMsg string, attempts int) string {
	return `{"id":` + strconv.Itoa(id) + `,"uuid":"j-u","task_id":1,"task_name":"addition","status":"` + status +
		`","priority":"normal","input":{"a":1},"output":null,"error_type":"` + errType + `","error_message":"` + errMsg +
		`","attempts":` + strconv.Itoa(attempts) + `,"max_retries":0,"retry_delay_seconds":60,"timeout_seconds":0,` +
		`"process_at":"2025-01-02T03:04:05Z","schedule_id":null,"idempotency_key":"","execution_id":null,` +
		`"output_destinations":[],"metadata":{},"created_at":"2025-01-02T03:04:05Z","started_at":null,"completed_at":null}`
}

func TestRemoteTaskListTable(t *testing.T) {
	t.Parallel()
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/tasks": func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			for k, want := range map[string]string{
				"_start": "0", "_end": "2", "_sort": "name", "_order": "desc", "q": "add", "enabled": "true",
			} {
				if got := q.Get(k); got != want {
					t.Errorf("query %s = %q, want %q (%s)", k, got, want, r.URL.RawQuery)
				}
			}
			if got := q["tags_like"]; len(got) != 0 {
				t.Errorf("unexpected filter %v", got)
			}
			w.Header().Set("X-Total-Count", "5")
			writeRaw(w, 200, "["+taskJSON+","+task2JSON+"]")
		},
	})
	r := run(t, "", "task", "list", "--server", url, "--filter", "enabled=true", "--sort", "name", "--order", "desc",
		"--limit", "2", "-q", "add")
	if r.code != 0 {
		t.Fatal(r)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 rows, got %v", r)
	}
	header := lines[0]
	for _, col := range []string{"ID", "NAME", "VERSION", "STATUS", "SOURCE", "UPDATED", "DESCRIPTION"} {
		if !strings.Contains(header, col) {
			t.Errorf("header lacks %s: %q", col, header)
		}
	}
	// Columns are aligned: each column starts at the same offset on every line.
	for _, col := range []struct{ header, row1, row2 string }{
		{"NAME", "addition", "weather-api"}, {"STATUS", "enabled", "disabled"}, {"DESCRIPTION", "Adds two numbers", "A very long"},
	} {
		at := strings.Index(header, col.header)
		if strings.Index(lines[1], col.row1) != at || strings.Index(lines[2], col.row2) != at {
			t.Errorf("column %s not aligned:\n%s", col.header, r.stdout)
		}
	}
	if !strings.Contains(lines[2], "…") || strings.Contains(lines[2], "sensible table column") {
		t.Errorf("long description not truncated: %q", lines[2])
	}
	if !strings.Contains(r.stderr, "Showing 1-2 of 5 tasks; use --offset 2 for more.") {
		t.Errorf("no paging footer on stderr: %v", r)
	}
}

func TestRemoteListJSONIsTheAPIsJSON(t *testing.T) {
	t.Parallel()
	body := "[" + taskJSON + "]"
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/tasks": func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, body) },
		"GET /api/v1/workers": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 200, `[{"id":"w-1","node":"n1","pid":42,"status":"busy","current_execution_id":7,"executions_total":3,`+
				`"failures_total":1,"restarts":0,"memory_bytes":1048576,"started_at":"2025-01-02T03:04:05Z","last_heartbeat_at":null}]`)
		},
	})
	r := run(t, "", "task", "list", "--server", url, "-o", "json")
	if r.code != 0 || r.stderr != "" {
		t.Fatal(r)
	}
	var want bytes.Buffer
	if err := json.Indent(&want, []byte(body), "", "  "); err != nil {
		t.Fatal(err)
	}
	if r.stdout != want.String()+"\n" {
		t.Errorf("-o json is not the API's JSON indented:\n%s\nwant:\n%s", r.stdout, want.String())
	}
	if !strings.Contains(r.stdout, `"extra_field": "kept"`) {
		t.Error("a field the client does not know was dropped")
	}

	// The flags go before the subcommand as well (persistent on the group).
	r = run(t, "", "worker", "--output", "json", "--server", url, "list")
	var ws []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &ws); r.code != 0 || err != nil || len(ws) != 1 || ws[0]["id"] != "w-1" {
		t.Errorf("worker list -o json: %v %v", err, r)
	}
	r = run(t, "", "worker", "list", "--server", url)
	if r.code != 0 || !regexp.MustCompile(`(?m)^w-1\s+n1\s+42\s+busy\s+7\s+3\s+1\s+0\s+1\.0 MiB\s`).MatchString(r.stdout) {
		t.Errorf("worker list table: %v", r)
	}
}

func TestRemoteTaskCreate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "adder")
	for name, content := range map[string]string{
		"metadata.json":       `{"label":"Adder","version":"1.2.0","custom":true}`,
		"main.js":             "function(input) { return {sum: input.a + input.b}; }",
		"input.schema.json":   `{"type":"object","required":["a","b"]}`,
		"tests/b-second.json": `{"input":{"a":1,"b":2},"expected_output":{"sum":3}}`,
		"tests/a-first.json":  `{"input":{"a":2,"b":2},"expected_output":{"sum":4}}`,
		"README.md":           "ignored",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zipPath := filepath.Join(t.TempDir(), "zipped.zip")
	zf, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	for name, content := range map[string]string{"main.js": "function(i) { return i; }", "metadata.json": `{"name":"named-in-zip"}`} {
		w, _ := zw.Create(name)
		_, _ = io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zf.Close()
	zipData, _ := os.ReadFile(zipPath)

	url := fakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/tasks": func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Content-Type") == "application/zip" {
				got, _ := io.ReadAll(r.Body)
				if !bytes.Equal(got, zipData) {
					t.Error("the zip was not sent as is")
				}
				if r.URL.Query().Has("name") {
					t.Errorf("metadata names the zipped task, yet name=%q was sent", r.URL.Query().Get("name"))
				}
				writeRaw(w, 201, strings.Replace(taskJSON, `"name":"addition"`, `"name":"named-in-zip"`, 1))
				return
			}
			body := decodeBody(t, r)
			if body["name"] != "adder" {
				t.Errorf("name = %v, want the folder's name", body["name"])
			}
			if body["code"] != "function(input) { return {sum: input.a + input.b}; }" {
				t.Errorf("code = %v", body["code"])
			}
			if md, _ := body["metadata"].(map[string]any); md["custom"] != true || md["version"] != "1.2.0" {
				t.Errorf("metadata = %v", body["metadata"])
			}
			if s, _ := body["input_schema"].(map[string]any); s["type"] != "object" {
				t.Errorf("input_schema = %v", body["input_schema"])
			}
			if _, ok := body["output_schema"]; ok {
				t.Errorf("output_schema sent for a folder without one: %v", body["output_schema"])
			}
			tests, _ := body["tests"].([]any)
			if len(tests) != 2 {
				t.Fatalf("tests = %v", body["tests"])
			}
			first, _ := tests[0].(map[string]any)
			if first["file"] != "tests/a-first.json" || first["expected_output"] == nil {
				t.Errorf("first test = %v", first)
			}
			writeRaw(w, 201, strings.Replace(taskJSON, `"name":"addition"`, `"name":"adder"`, 1))
		},
	})
	r := run(t, "", "task", "create", "--server", url, "--from-fs", dir)
	if r.code != 0 || r.stdout != "Created task adder (id 1, version 1.0.0).\n" {
		t.Fatal(r)
	}
	r = run(t, "", "task", "create", "--server", url, "--from-fs", zipPath)
	if r.code != 0 || !strings.Contains(r.stdout, "named-in-zip") {
		t.Fatal(r)
	}
	// Not a task: no request is sent.
	r = run(t, "", "task", "create", "--server", url, "--from-fs", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stderr, "has no main.js") {
		t.Errorf("want a failure naming main.js, got %v", r)
	}
}

func TestRemoteTaskExecute(t *testing.T) {
	t.Parallel()
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/tasks/{ref}/execute": func(w http.ResponseWriter, r *http.Request) {
			body := decodeBody(t, r)
			input, _ := body["input"].(map[string]any)
			switch r.PathValue("ref") {
			case "addition":
				if _, ok := body["async"]; ok || input["a"] != 1.0 || body["timeout_seconds"] != 5.0 {
					t.Errorf("sync body = %v", body)
				}
				writeRaw(w, 200, `{"id":9,"status":"completed","input":{"a":1,"b":2},"output":{"sum":3},"logs":[],"http_requests":[]}`)
			case "failing":
				writeRaw(w, 400, envelope(400, "ValidationError", "a must be a number", map[string]any{"execution_id": 10}))
			case "queued":
				if body["async"] != true || body["priority"] != "high" {
					t.Errorf("async body = %v", body)
				}
				writeRaw(w, 202, jobJSON(42, "queued", "", "", 0))
			default:
				t.Errorf("unexpected task %s", r.PathValue("ref"))
			}
		},
	})
	r := run(t, "", "task", "execute", "addition", "--server", url, "--input-json", `{"a":1,"b":2}`, "--timeout-seconds", "5")
	if r.code != 0 || r.stdout != `{"sum":3}`+"\n" || r.stderr != "" {
		t.Errorf("sync success: %v", r)
	}
	r = run(t, "", "task", "execute", "addition", "--server", url, "--input-file", "-", "--timeout-seconds", "5", "-o", "json")
	if r.code != 2 {
		// stdin is empty: not JSON.
		t.Errorf("empty stdin input: %v", r)
	}
	r = run(t, `{"a":1}`, "task", "execute", "addition", "--server", url, "--input-file", "-", "--timeout-seconds", "5", "-o", "json")
	var exec map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &exec); r.code != 0 || err != nil || exec["id"] != 9.0 {
		t.Errorf("-o json prints the execution: %v", r)
	}
	r = run(t, "", "task", "execute", "failing", "--server", url, "--input-json", `{"a":"x"}`)
	if r.code != 1 || r.stderr != "ValidationError: a must be a number\n" || r.stdout != "" {
		t.Errorf("sync failure: want exit 1 and \"<ErrorType>: <message>\" on stderr, got %v", r)
	}
	// -o json: the error envelope on stdout, naming the failed execution.
	r = run(t, "", "task", "execute", "failing", "--server", url, "--input-json", `{"a":"x"}`, "-o", "json")
	var env struct {
		Error struct {
			Type    string         `json:"type"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &env); r.code != 1 || err != nil || env.Error.Type != "ValidationError" ||
		env.Error.Details["execution_id"] != 10.0 {
		t.Errorf("sync failure with -o json: want exit 1 and the envelope on stdout, got %v", r)
	}
	r = run(t, "", "task", "execute", "queued", "--server", url, "--input-json", `{}`, "--async", "--priority", "high")
	if r.code != 0 || !strings.Contains(r.stdout, "Queued job 42") || !strings.Contains(r.stdout, "ratchet job wait 42") {
		t.Errorf("async: %v", r)
	}
}

func TestRemoteJobWait(t *testing.T) {
	t.Parallel()
	var polls atomic.Int32
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/jobs/{id}": func(w http.ResponseWriter, r *http.Request) {
			switch r.PathValue("id") {
			case "42":
				switch n := polls.Add(1); {
				case n <= 2:
					writeRaw(w, 200, jobJSON(42, "queued", "", "", 0))
				case n <= 4:
					writeRaw(w, 200, jobJSON(42, "processing", "", "", 1))
				default:
					writeRaw(w, 200, strings.Replace(jobJSON(42, "completed", "", "", 1), `"output":null`, `"output":{"sum":3}`, 1))
				}
			case "43":
				writeRaw(w, 200, jobJSON(43, "failed", "TypeError", "boom", 1))
			default:
				writeRaw(w, 404, envelope(404, "NotFoundError", "job "+r.PathValue("id")+" not found", nil))
			}
		},
	})
	r := run(t, "", "job", "wait", "42", "--server", url, "--interval", "1ms")
	if r.code != 0 {
		t.Fatal(r)
	}
	progress := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(progress) != 3 || !strings.HasPrefix(progress[0], "job 42 (addition): queued, attempt 0/1") ||
		!strings.HasPrefix(progress[1], "job 42 (addition): processing, attempt 1/1") ||
		!strings.HasPrefix(progress[2], "job 42 (addition): completed") {
		t.Errorf("want one progress line per state on stderr, got %v", r)
	}
	if !regexp.MustCompile(`(?m)^Status:\s+completed$`).MatchString(r.stdout) || !strings.Contains(r.stdout, `{"sum":3}`) {
		t.Errorf("the finished job is not printed: %v", r)
	}

	r = run(t, "", "job", "wait", "43", "--server", url, "--interval", "1ms", "-o", "json")
	if r.code != 1 || !strings.Contains(r.stderr, "Error: job 43 failed after 1 attempt(s): TypeError: boom") {
		t.Errorf("failed job: want exit 1, got %v", r)
	}
	if !strings.Contains(r.stdout, `"status": "failed"`) {
		t.Errorf("failed job JSON not printed: %v", r)
	}
	r = run(t, "", "job", "wait", "44", "--server", url, "--interval", "1ms")
	if r.code != 1 || !strings.Contains(r.stderr, "Error: NotFoundError: job 44 not found") {
		t.Errorf("missing job: %v", r)
	}
}

func TestRemoteJobCreateAndActions(t *testing.T) {
	t.Parallel()
	before := time.Now()
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/jobs": func(w http.ResponseWriter, r *http.Request) {
			body := decodeBody(t, r)
			if body["task_id"] != "addition" || body["priority"] != "urgent" || body["max_retries"] != 0.0 ||
				body["idempotency_key"] != "k1" {
				t.Errorf("create body = %v", body)
			}
			at, err := time.Parse(time.RFC3339, body["process_at"].(string))
			if err != nil || at.Before(before.Add(9*time.Minute)) || at.After(time.Now().Add(11*time.Minute)) {
				t.Errorf("process_at %v is not about 10m from now: %v", body["process_at"], err)
			}
			writeRaw(w, 201, jobJSON(5, "queued", "", "", 0))
		},
		"POST /api/v1/jobs/{id}/cancel": func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("id") != "5" {
				t.Errorf("cancel %s", r.PathValue("id"))
			}
			writeRaw(w, 409, envelope(409, "ConflictError", "job 5 is completed and cannot be cancelled", map[string]any{"status": "completed"}))
		},
		"POST /api/v1/jobs/{id}/retry": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 200, jobJSON(5, "queued", "", "", 1))
		},
		"DELETE /api/v1/jobs/{id}": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
		"GET /api/v1/jobs": func(w http.ResponseWriter, r *http.Request) {
			if q := r.URL.Query(); q.Get("_sort") != "id" || q.Get("_order") != "desc" || q["status"][1] != "retrying" {
				t.Errorf("job list query %s", r.URL.RawQuery)
			}
			writeRaw(w, 200, "["+jobJSON(5, "failed", "TypeError", "boom", 1)+"]")
		},
	})
	r := run(t, "", "job", "create", "--server", url, "--task", "addition", "--priority", "urgent", "--delay", "10m",
		"--max-retries", "0", "--idempotency-key", "k1")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Queued job 5 (task addition, priority normal") {
		t.Errorf("create: %v", r)
	}
	r = run(t, "", "job", "cancel", "5", "--server", url)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: ConflictError: job 5 is completed and cannot be cancelled\n  status: completed") {
		t.Errorf("cancel conflict: %v", r)
	}
	r = run(t, "", "job", "retry", "5", "--server", url)
	if r.code != 0 || r.stdout != "Requeued job 5 (now queued).\n" {
		t.Errorf("retry: %v", r)
	}
	r = run(t, "", "job", "delete", "5", "--server", url)
	if r.code != 0 || r.stdout != "Deleted job 5.\n" {
		t.Errorf("delete: %v", r)
	}
	r = run(t, "", "job", "list", "--server", url, "--filter", "status=failed", "--filter", "status=retrying")
	if r.code != 0 || !regexp.MustCompile(`(?m)^5\s+addition\s+failed\s+normal\s+1/1\s+.*TypeError: boom$`).MatchString(r.stdout) {
		t.Errorf("job list: %v", r)
	}
}

func TestRemoteScheduleCreateAndUpdate(t *testing.T) {
	t.Parallel()
	sched := `{"id":3,"uuid":"s","task_id":1,"name":"every-5","cron_expression":"*/5 * * * *","timezone":"Europe/Paris",` +
		`"input":{"a":1},"enabled":true,"max_executions":10,"execution_count":0,"next_run_at":"2025-01-02T03:05:00Z",` +
		`"last_run_at":null,"output_destinations":[],"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"POST /api/v1/schedules": func(w http.ResponseWriter, r *http.Request) {
			body := decodeBody(t, r)
			if body["task_id"] != "addition" || body["cron_expression"] != "*/5 * * * *" || body["timezone"] != "Europe/Paris" ||
				body["name"] != "every-5" || body["max_executions"] != 10.0 || body["input"].(map[string]any)["a"] != 1.0 {
				t.Errorf("create body %v", body)
			}
			writeRaw(w, 201, sched)
		},
		"PATCH /api/v1/schedules/{id}": func(w http.ResponseWriter, r *http.Request) {
			body := decodeBody(t, r)
			if len(body) != 2 || body["cron_expression"] != "@hourly" || body["max_executions"] != 0.0 {
				t.Errorf("update must send only the changed fields: %v", body)
			}
			writeRaw(w, 200, sched)
		},
		"POST /api/v1/schedules/{id}/trigger": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 201, jobJSON(8, "queued", "", "", 0))
		},
	})
	r := run(t, "", "schedule", "create", "--server", url, "--task", "addition", "--cron", "*/5 * * * *",
		"--timezone", "Europe/Paris", "--name", "every-5", "--max-executions", "10", "--input-json", `{"a":1}`)
	if r.code != 0 || !strings.HasPrefix(r.stdout, `Created schedule 3 (every-5, "*/5 * * * *", next run 2025-01-02T03:05:00Z`) {
		t.Errorf("create: %v", r)
	}
	r = run(t, "", "schedule", "update", "3", "--server", url, "--cron", "@hourly", "--max-executions", "0")
	if r.code != 0 {
		t.Errorf("update: %v", r)
	}
	r = run(t, "", "schedule", "trigger", "3", "--server", url)
	if r.code != 0 || !strings.Contains(r.stdout, "Queued job 8") {
		t.Errorf("trigger: %v", r)
	}
}

func TestRemoteExecutionLogs(t *testing.T) {
	t.Parallel()
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/executions/{id}/logs": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 200, `{"execution_id":7,"logs":[{"time":"2025-01-02T03:04:05Z","level":"info","message":"hello\tworld"}],`+
				`"http_requests":[{"method":"GET","url":"https://api.example/x","status":200,"duration_ms":12.5,"error":"",`+
				`"mocked":false,"started_at":"2025-01-02T03:04:05Z"}]}`)
		},
	})
	r := run(t, "", "execution", "logs", "7", "--server", url)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "2025-01-02T03:04:05Z info  hello\tworld\n") ||
		!regexp.MustCompile(`(?m)^2025-01-02T03:04:05Z\s+GET\s+https://api.example/x\s+200\s+13ms`).MatchString(r.stdout) {
		t.Errorf("execution logs: %v", r)
	}
}

func TestRemoteAPIErrors(t *testing.T) {
	t.Parallel()
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/tasks/{ref}": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 404, envelope(404, "NotFoundError", "task "+r.PathValue("ref")+" not found", nil))
		},
		"POST /api/v1/jobs": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 400, envelope(400, "InvalidArgumentError", "max_retries is too large", map[string]any{"field": "max_retries"}))
		},
		"GET /api/v1/workers/stats": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(502) // a proxy's answer: no envelope
		},
		"GET /api/v1/jobs/stats": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 401, envelope(401, "UnauthorizedError", "missing API key", nil))
		},
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"task", "get", "nope"}, "Error: NotFoundError: task nope not found\n  request id: req-1\n"},
		{[]string{"job", "create", "--task", "x", "--max-retries", "1000"}, "Error: InvalidArgumentError: max_retries is too large (field: max_retries)\n"},
		{[]string{"worker", "stats"}, "Error: NetworkError: Bad Gateway\n"},
		{[]string{"job", "stats"}, "hint: give an API key with --token or RATCHET_TOKEN"},
	} {
		r := run(t, "", append(tc.args, "--server", url)...)
		if r.code != ExitFailure || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%v: want exit 1 and %q on stderr, got %v", tc.args, tc.want, r)
		}
	}
}

func TestRemoteUnreachableServer(t *testing.T) {
	t.Parallel()
	url := unreachable(t)
	for _, args := range [][]string{
		{"task", "list"}, {"job", "get", "1"}, {"schedule", "enable", "1"}, {"execution", "list"},
		{"task", "execute", "x", "--input-json", "{}"},
	} {
		r := run(t, "", append(args, "--server", url)...)
		if r.code != ExitFailure ||
			!strings.HasPrefix(r.stderr, "Error: cannot reach the Ratchet server at "+url) ||
			!strings.Contains(r.stderr, "--server") || !strings.Contains(r.stderr, "RATCHET_SERVER") {
			t.Errorf("%v: want exit 1 naming the server with a hint, got %v", args, r)
		}
	}
}

func TestRemoteUsageErrors(t *testing.T) {
	t.Parallel()
	// Nothing listens there: a usage error must be found before any request.
	url := unreachable(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"task", "list", "-o", "xml"}, `invalid --output "xml"`},
		{[]string{"task", "list", "--filter", "colour=red"}, "colour"},
		{[]string{"task", "list", "--filter", "nameonly"}, "want FIELD=VALUE"},
		{[]string{"task", "list", "--limit", "0"}, "invalid --limit 0"},
		{[]string{"task", "list", "--sort", "name", "--order", "sideways"}, `invalid --order "sideways"`},
		{[]string{"task", "list", "--order", "desc"}, "--order needs --sort"},
		{[]string{"job", "list", "--sort", "nope"}, "nope"},
		{[]string{"job", "get", "abc"}, `invalid job id "abc"`},
		{[]string{"job", "get"}, "accepts 1 arg(s)"},
		{[]string{"job", "create", "--task", "x", "--priority", "asap"}, `invalid --priority "asap"`},
		{[]string{"job", "create", "--task", "x", "--process-at", "tomorrow"}, "invalid --process-at"},
		{[]string{"job", "create", "--task", "x", "--process-at", "2025-01-02T03:04:05Z", "--delay", "1s"}, "none of the others"},
		{[]string{"job", "create"}, `required flag(s) "task" not set`},
		{[]string{"job", "wait", "1", "--interval", "0s"}, "invalid --interval"},
		{[]string{"task", "execute", "x", "--input-json", "{nope"}, "--input-json is not valid JSON"},
		{[]string{"task", "execute", "x", "--wait"}, "use it with --async"},
		{[]string{"task", "update", "x"}, "nothing to update"},
		{[]string{"task", "update", "x", "--enable", "--disable"}, "none of the others"},
		{[]string{"schedule", "update", "1"}, "nothing to update"},
		{[]string{"schedule", "create", "--task", "x"}, `required flag(s) "cron" not set`},
		{[]string{"worker", "list", "--timeout", "-1s"}, "invalid --timeout"},
		{[]string{"task", "list", "--server", "ftp://x"}, "invalid --server"},
		{[]string{"task", "bogus"}, `unknown command "bogus" for "ratchet task"`},
	} {
		args := tc.args
		if !slices.Contains(args, "--server") {
			args = append(slices.Clone(args), "--server", url)
		}
		r := run(t, "", args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want exit 2 and %q, got %v", tc.args, tc.want, r)
		}
	}
}

func TestRemoteServerAndTokenFromEnvironment(t *testing.T) {
	var auth atomic.Value
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/workers/stats": func(w http.ResponseWriter, r *http.Request) {
			auth.Store(r.Header.Get("Authorization"))
			writeRaw(w, 200, `{"total":2,"by_status":{"idle":1,"busy":1},"by_node":{"n1":2},"busy":1,"idle":1,`+
				`"executions_total":5,"failures_total":0,"restarts_total":0,"memory_bytes_total":2048,"nodes":1}`)
		},
	})
	t.Setenv(envServer, url)
	t.Setenv(envToken, "sk-from-env")
	r := run(t, "", "worker", "stats")
	if r.code != 0 || auth.Load() != "Bearer sk-from-env" || !regexp.MustCompile(`(?m)^Workers:\s+2$`).MatchString(r.stdout) {
		t.Errorf("RATCHET_SERVER and RATCHET_TOKEN: Authorization %q, %v", auth.Load(), r)
	}
	// The flags win over the environment.
	r = run(t, "", "worker", "stats", "--token", "sk-flag")
	if r.code != 0 || auth.Load() != "Bearer sk-flag" {
		t.Errorf("--token: Authorization %q, %v", auth.Load(), r)
	}
	dead := unreachable(t)
	r = run(t, "", "worker", "stats", "--server", dead)
	if r.code != 1 || !strings.Contains(r.stderr, dead) {
		t.Errorf("--server: %v", r)
	}
	// An unreachable server from the environment is named as such.
	t.Setenv(envServer, dead)
	r = run(t, "", "worker", "stats")
	if r.code != 1 || !strings.Contains(r.stderr, dead+" (from RATCHET_SERVER)") {
		t.Errorf("unreachable RATCHET_SERVER: %v", r)
	}
	// No token anywhere: no Authorization header.
	t.Setenv(envToken, "")
	t.Setenv(envServer, url)
	if r := run(t, "", "worker", "stats"); r.code != 0 || auth.Load() != "" {
		t.Errorf("without a token: Authorization %q, %v", auth.Load(), r)
	}
}

func TestRemoteWorkerBareShowsHelp(t *testing.T) {
	t.Parallel()
	r := run(t, "", "worker")
	if r.code != 0 || !strings.Contains(r.stdout, "ratchet worker [command]") {
		t.Errorf("bare worker without the pool's cookie: %v", r)
	}
}

func TestRelativeTimes(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "-"},
		{now.Add(-90 * time.Second), "1m ago"},
		{now.Add(3*time.Hour + time.Minute), "in 3h"},
		{now.Add(-72 * time.Hour), "3d ago"},
		{time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)), "2025-01-02T02:04:05Z"},
	} {
		if got := ago(tc.t); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
	recent := now.Add(-2 * time.Hour)
	if got, want := stamp(recent), recent.UTC().Format(time.RFC3339)+" (2h ago)"; got != want {
		t.Errorf("stamp = %q, want %q", got, want)
	}
}

func TestRemoteTaskGetTestValidateUpdate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.js"), []byte("function(i) { return i; }"), 0o644); err != nil {
		t.Fatal(err)
	}
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/tasks/{ref}": func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, taskJSON) },
		"PATCH /api/v1/tasks/{ref}": func(w http.ResponseWriter, r *http.Request) {
			body := decodeBody(t, r)
			// The folder has no schemas: the update removes them.
			if body["code"] != "function(i) { return i; }" || body["input_schema"] != nil || body["output_schema"] != nil ||
				len(body) != 3 {
				t.Errorf("update body %v", body)
			}
			writeRaw(w, 200, strings.Replace(taskJSON, `"version":"1.0.0"`, `"version":"1.0.1"`, 1))
		},
		"POST /api/v1/tasks/{ref}/test": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 200, `{"task":"addition","passed":1,"failed":1,"ok":false,"duration_ms":3,"tests":[`+
				`{"file":"tests/a.json","name":"adds","passed":true,"duration_ms":1,"message":"","expected":"","actual":"","diff":[],"error":null,"logs":[],"http_requests":[]},`+
				`{"file":"tests/b.json","name":"","passed":false,"duration_ms":2,"message":"output differs at $.sum","expected":"{\"sum\": 4}","actual":"{\"sum\": 5}","diff":["$.sum"],"error":null,"logs":[],"http_requests":[]}]}`)
		},
		"POST /api/v1/tasks/{ref}/validate": func(w http.ResponseWriter, r *http.Request) {
			body := decodeBody(t, r)
			if body["input"].(map[string]any)["a"] != 1.0 {
				t.Errorf("validate body %v", body)
			}
			writeRaw(w, 200, `{"task":"addition","valid":true,"errors":0,"warnings":1,"input_valid":false,"problems":[`+
				`{"file":"output.schema.json","line":0,"column":0,"severity":"warning","message":"no output schema"}]}`)
		},
		"POST /api/v1/tasks/{ref}/execute": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, 404, envelope(404, "NotFoundError", "task "+r.PathValue("ref")+" not found", nil))
		},
	})
	r := run(t, "", "task", "get", "addition", "--server", url)
	for _, re := range []string{`(?m)^Name:\s+addition$`, `(?m)^Enabled:\s+yes$`, `(?m)^Created:\s+2025-01-02T03:04:05Z$`,
		`(?m)^Input schema:\s+\{"type":"object"\}$`, `(?m)^Output schema:\s+-$`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("task get lacks %s: %v", re, r)
		}
	}
	r = run(t, "", "task", "update", "addition", "--server", url, "--from-fs", dir)
	if r.code != 0 || r.stdout != "Updated task addition (id 1, version 1.0.1).\n" {
		t.Errorf("update: %v", r)
	}
	r = run(t, "", "task", "test", "addition", "--server", url)
	if r.code != 1 || !strings.HasPrefix(r.stdout, "PASS adds (tests/a.json) 1ms\nFAIL tests/b.json 2ms\n    output differs at $.sum\n") ||
		!strings.HasSuffix(r.stdout, "\n1 passed, 1 failed\n") || r.stderr != "" {
		t.Errorf("task test: want the report and exit 1, got %v", r)
	}
	r = run(t, "", "task", "validate", "addition", "--server", url, "--input-json", `{"a":1}`)
	if r.code != 1 || !strings.Contains(r.stdout, "warning output.schema.json: no output schema\n") ||
		!strings.Contains(r.stdout, "the input does not match the input schema") {
		t.Errorf("task validate: %v", r)
	}
	// An error of the request (not of an execution) is an ordinary error.
	r = run(t, "", "task", "execute", "nope", "--server", url)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: NotFoundError: task nope not found") {
		t.Errorf("execute of a missing task: %v", r)
	}
}

func TestRemoteGetByUUID(t *testing.T) {
	t.Parallel()
	const u = "0190f5c2-7b7e-7cc0-8c4e-1234567890ab"
	sched := `{"id":3,"uuid":"` + u + `","task_id":1,"name":"every-5","cron_expression":"*/5 * * * *","timezone":"UTC",` +
		`"input":{},"enabled":true,"max_executions":null,"execution_count":0,"next_run_at":null,` +
		`"last_run_at":null,"output_destinations":[],"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`
	exec := `{"id":9,"uuid":"` + u + `","task_id":1,"task_name":"addition","job_id":null,"status":"completed","input":{},` +
		`"output":{"sum":3},"attempt":1,"queued_at":"2025-01-02T03:04:05Z","started_at":null,"completed_at":null}`
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/jobs/" + u:       func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, jobJSON(5, "queued", "", "", 0)) },
		"GET /api/v1/executions/" + u: func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, exec) },
		"GET /api/v1/schedules/" + u:  func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, sched) },
	})
	for _, what := range []string{"job", "execution", "schedule"} {
		r := run(t, "", what, "get", u, "--server", url, "-o", "json")
		if r.code != 0 || !strings.Contains(r.stdout, `"id"`) {
			t.Errorf("%s get UUID: %v", what, r)
		}
	}
	if r := run(t, "", "job", "get", "not-a-uuid", "--server", url); r.code != ExitUsage ||
		!strings.Contains(r.stderr, "want a positive number or a UUID") {
		t.Errorf("bad ref: %v", r)
	}
}

func TestRemoteJobDeliveries(t *testing.T) {
	t.Parallel()
	url := fakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/jobs/{id}": func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("id") != "5" {
				writeRaw(w, 404, envelope(404, "NotFoundError", "job "+r.PathValue("id")+" not found", nil))
				return
			}
			writeRaw(w, 200, jobJSON(5, "completed", "", "", 1))
		},
		"GET /api/v1/deliveries": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("job_id") != "5" {
				t.Errorf("deliveries query %s", r.URL.RawQuery)
			}
			w.Header().Set("X-Total-Count", "0")
			writeRaw(w, 200, "[]")
		},
	})
	r := run(t, "", "job", "deliveries", "99999", "--server", url)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "NotFoundError: job 99999 not found") {
		t.Errorf("deliveries of a missing job: %v", r)
	}
	r = run(t, "", "job", "deliveries", "5", "--server", url)
	if r.code != 0 || !strings.Contains(r.stderr, "No deliveries for job 5") {
		t.Errorf("deliveries of a job without any: %v", r)
	}
}

// TestRemoteExamplesUseRealInputs checks that the help examples of the
// remote commands give the bundled addition task its real input
// (num1, num2), so that they run as shown.
func TestRemoteExamplesUseRealInputs(t *testing.T) {
	t.Parallel()
	root := NewRootCmd(NewApp(strings.NewReader(""), io.Discard, io.Discard))
	for _, name := range []string{"task", "job", "schedule"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range cmd.Commands() {
			for line := range strings.SplitSeq(sub.Example, "\n") {
				if strings.Contains(line, "addition") && strings.Contains(line, "--input-json") && !strings.Contains(line, `"num1"`) {
					t.Errorf("%s %s: example %q does not give addition its input {num1, num2}", name, sub.Name(), strings.TrimSpace(line))
				}
			}
		}
	}
}
