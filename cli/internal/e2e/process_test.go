package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/cli/internal/command"
)

// Deadlines. They only bound waits: the test never asserts how fast
// something happens, and a loaded CI machine (the server and its workers
// run under the race detector) stays well inside them.
const (
	startDeadline    = 60 * time.Second
	jobDeadline      = 20 * time.Second
	shutdownDeadline = 15 * time.Second
	pollInterval     = 100 * time.Millisecond
)

// serveProc is one `ratchet serve` process: the test binary re-executed as
// the ratchet binary (TestMain).
type serveProc struct {
	exe string
	cmd *exec.Cmd
	// url is the server's root URL, read from its "ratchet is serving" log
	// line.
	url string
	log *logLines

	done    chan struct{} // closed once the process has exited
	waitErr error         // cmd.Wait's error, set before done is closed
}

// servingLine is serve's log line naming its URL (slog text format).
var servingLine = regexp.MustCompile(`msg="ratchet is serving" url=(http://\S+)`)

// serveEnv is what every `ratchet serve` of a test shares: the binary, a
// home, a configuration file and a SQLite file, all in one temporary
// folder.
type serveEnv struct {
	exe, dir, home, cfgPath string
	// outDir receives the filesystem deliveries.
	outDir string
}

// newServeEnv writes the configuration of a server over a fresh SQLite
// file with two workers, the bundled example tasks and two global output
// destinations: a file per job under outDir and hook's URL.
func newServeEnv(t *testing.T, hook *webhookReceiver) *serveEnv {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("finding the test binary: %v", err)
	}
	dir := t.TempDir()
	e := &serveEnv{exe: exe, dir: dir, home: filepath.Join(dir, "home"), cfgPath: filepath.Join(dir, "ratchet.yaml"), outDir: filepath.Join(dir, "out")}
	if err := os.MkdirAll(e.home, 0o755); err != nil {
		t.Fatal(err)
	}
	// JSON strings are YAML double-quoted scalars: paths and templates
	// need no further escaping.
	q := strconv.Quote
	cfg := strings.Join([]string{
		"server:",
		"  rate_limit:", // on, as in production, but roomy enough for polling
		"    requests_per_minute: 6000",
		"    burst_size: 500",
		"output:",
		"  global_destinations:",
		"    - type: filesystem",
		"      path: " + q(filepath.Join(e.outDir, "{{task_name}}", "{{job_uuid}}.json")),
		"      format: json",
		"      create_dirs: true",
		"    - type: webhook",
		"      url: " + q(hook.url+"/hooks/{{task_name}}"),
		"      signature:",
		"        secret: " + q(hook.secret),
		"      timeout: 10s",
		"      retry_policy:",
		"        max_attempts: 3",
		"        initial_delay_ms: 200",
		"        max_delay_ms: 1000",
		"        backoff_multiplier: 2",
		"",
	}, "\n")
	if err := os.WriteFile(e.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// start starts `ratchet serve --port 0` and returns once the server said
// where it listens; the process is killed at the end of the test if it
// still runs.
func (e *serveEnv) start(t *testing.T) *serveProc {
	t.Helper()
	p := &serveProc{exe: e.exe, log: newLogLines(), done: make(chan struct{})}
	cmd := exec.Command(e.exe, "serve", "--port", "0", "--config", e.cfgPath)
	cmd.Dir = e.dir
	// The caller's RATCHET_* variables would change the server under test.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "RATCHET_") || k == "HOME" || k == "XDG_CACHE_HOME" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env,
		envAsRatchet+"=1",
		"HOME="+e.home,
		"XDG_CACHE_HOME="+filepath.Join(e.home, ".cache"), // serve extracts the examples there
		"RATCHET_DATABASE_URL=sqlite://"+filepath.Join(e.dir, "r.db"),
		"RATCHET_SERVER_WORKERS_WORKER_COUNT=2",
	)
	cmd.Stdout = p.log
	cmd.Stderr = p.log
	// Bounds Wait should a leftover process hold the output pipe open.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting ratchet serve: %v", err)
	}
	p.cmd = cmd
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of ratchet serve (pid %d):\n%s", cmd.Process.Pid, p.log.String())
		}
	})

	select {
	case p.url = <-p.log.url:
	case <-p.done:
		t.Fatalf("ratchet serve exited before serving: %v", p.waitErr)
	case <-time.After(startDeadline):
		t.Fatalf("ratchet serve did not log %q within %s", "ratchet is serving", startDeadline)
	}
	return p
}

func (p *serveProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// readyClient bounds each readiness probe.
var readyClient = &http.Client{Timeout: 5 * time.Second}

// waitReady polls GET /ready until it answers 200.
func (p *serveProc) waitReady(t *testing.T) {
	t.Helper()
	waitFor(t, startDeadline, "GET /ready to answer 200", func() (bool, string) {
		if p.exited() {
			t.Fatalf("ratchet serve exited: %v", p.waitErr)
		}
		resp, err := readyClient.Get(p.url + "/ready")
		if err != nil {
			return false, err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("%d %s", resp.StatusCode, body)
	})
}

// stop sends SIGTERM and waits for the process to exit.
func (p *serveProc) stop() (exitCode int, err error) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return -1, fmt.Errorf("sending SIGTERM: %w", err)
	}
	select {
	case <-p.done:
	case <-time.After(shutdownDeadline):
		return -1, fmt.Errorf("ratchet serve still runs %s after SIGTERM", shutdownDeadline)
	}
	var ee *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &ee) {
		return -1, p.waitErr
	}
	return p.cmd.ProcessState.ExitCode(), nil
}

// logLines collects a process's output and spots the serving line.
type logLines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	url     chan string // receives the URL once
	sent    bool
}

func newLogLines() *logLines { return &logLines{url: make(chan string, 1)} }

func (l *logLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(b)
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if m := servingLine.FindStringSubmatch(line); m != nil && !l.sent {
			l.sent = true
			l.url <- m[1]
		}
	}
	return len(b), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// webhookReceiver is the webhook destination: it checks every request's
// HMAC signature and keeps the envelopes by job.
type webhookReceiver struct {
	url    string
	secret string

	mu    sync.Mutex
	calls map[int64][]hookCall
	bad   []string // requests refused, and why
}

type hookCall struct {
	path, deliveryID string
	envelope         hookEnvelope
}

// hookEnvelope is the part of the delivered JSON envelope the test reads.
type hookEnvelope struct {
	JobID       *int64          `json:"job_id"`
	JobUUID     string          `json:"job_uuid"`
	ExecutionID *int64          `json:"execution_id"`
	TaskName    string          `json:"task_name"`
	Status      string          `json:"status"`
	Output      json.RawMessage `json:"output"`
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	h := &webhookReceiver{secret: "e2e-webhook-secret", calls: map[int64][]hookCall{}}
	srv := httptest.NewServer(http.HandlerFunc(h.serveHTTP))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

func (h *webhookReceiver) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		h.refuse(w, http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	if r.Method != http.MethodPost {
		h.refuse(w, http.StatusMethodNotAllowed, "%s %s: want POST", r.Method, r.URL.Path)
		return
	}
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := r.Header.Get("X-Ratchet-Signature"); !hmac.Equal([]byte(got), []byte(want)) {
		h.refuse(w, http.StatusUnauthorized, "%s: X-Ratchet-Signature %q, want %q", r.URL.Path, got, want)
		return
	}
	var env hookEnvelope
	if err := json.Unmarshal(body, &env); err != nil || env.JobID == nil {
		h.refuse(w, http.StatusBadRequest, "%s: envelope without a job_id (%v): %s", r.URL.Path, err, body)
		return
	}
	h.mu.Lock()
	h.calls[*env.JobID] = append(h.calls[*env.JobID], hookCall{
		path: r.URL.Path, deliveryID: r.Header.Get("X-Ratchet-Delivery"), envelope: env,
	})
	h.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (h *webhookReceiver) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	h.mu.Lock()
	h.bad = append(h.bad, fmt.Sprintf(format, args...))
	h.mu.Unlock()
	http.Error(w, "refused", status)
}

func (h *webhookReceiver) callsFor(jobID int64) []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookCall(nil), h.calls[jobID]...)
}

func (h *webhookReceiver) refused() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bad...)
}

// waitFor polls cond until it holds, failing the test after timeout with
// the last state cond described.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last: %s", timeout, what, state)
		}
		time.Sleep(pollInterval)
	}
}

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// Processes, read from /proc (Linux).

// procInfo is what the test needs of a process.
type procInfo struct {
	pid, ppid int
	state     byte
	start     string // start time in clock ticks since boot: tells a reused pid apart
	argv      []string
}

// readProc reads /proc/PID; ok is false when the process is gone.
func readProc(pid int) (procInfo, bool) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procInfo{}, false
	}
	// pid (comm) state ppid ... ; comm may hold spaces and parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return procInfo{}, false
	}
	p := procInfo{pid: pid, state: f[0][0], start: f[19]}
	p.ppid, _ = strconv.Atoi(f[1])
	if cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline")); err == nil {
		p.argv = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	}
	return p, true
}

// allProcs lists the processes of the machine (those readable).
func allProcs() []procInfo {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

// running reports whether p still runs (a zombie has exited).
func running(p procInfo) bool {
	now, ok := readProc(p.pid)
	return ok && now.start == p.start && now.state != 'Z'
}

// workerProcs are the live processes of exe started as "exe worker".
func workerProcs(exe string) []procInfo {
	var out []procInfo
	for _, p := range allProcs() {
		if p.state != 'Z' && len(p.argv) > 1 && p.argv[0] == exe && p.argv[1] == "worker" {
			out = append(out, p)
		}
	}
	return out
}

// childrenOf are the live children of pid.
func childrenOf(pid int) []procInfo {
	var out []procInfo
	for _, p := range allProcs() {
		if p.ppid == pid && p.state != 'Z' {
			out = append(out, p)
		}
	}
	return out
}

// runCLI runs the ratchet command line in this process, as cmd/ratchet's
// main does.
func runCLI(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = command.Run(ctx, args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}
