package delivery_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/delivery"
	"github.com/ratchet-go/ratchet/resilience/breaker"
	"github.com/ratchet-go/ratchet/resilience/retry"
)

// captured is one request a test server received.
type captured struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// hookServer answers with statuses[i] for the i-th request (the last one
// repeats) and records the requests.
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []captured
}

func newHookServer(t *testing.T, statuses ...int) *hookServer {
	t.Helper()
	hs := &hookServer{}
	hs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hs.mu.Lock()
		n := len(hs.requests)
		hs.requests = append(hs.requests, captured{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		hs.mu.Unlock()
		status := statuses[min(n, len(statuses)-1)]
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
		if status >= 400 {
			_, _ = io.WriteString(w, `{"error":"nope"}`)
		}
	}))
	t.Cleanup(hs.Close)
	return hs
}

func (hs *hookServer) got() []captured {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]captured(nil), hs.requests...)
}

func TestWebhookRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	srv := newHookServer(t, 500, 503, 200)
	job, exec := sampleJob()
	store := &memStore{}
	d := newDeliverer(t, store, delivery.Config{})

	r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{"url": srv.URL + "/hook"})})[0]
	if !r.Success || r.Attempts != 3 || r.StatusCode == nil || *r.StatusCode != 200 || r.ErrorMessage != "" || r.ID != 3 {
		t.Fatalf("result %+v, want success after 3 attempts", r)
	}
	recs := store.all()
	if len(recs) != 3 {
		t.Fatalf("%d attempts stored, want 3", len(recs))
	}
	for i, want := range []int{500, 503, 200} {
		rec := recs[i]
		if rec.Attempts != i+1 || rec.StatusCode == nil || *rec.StatusCode != want || rec.Success != (want == 200) ||
			rec.JobID != 42 || rec.ExecutionID != 7 || rec.DestinationType != "webhook" || rec.Destination != srv.URL+"/hook" {
			t.Errorf("stored attempt %d = %+v, want status %d", i+1, rec, want)
		}
		if want != 200 && !strings.Contains(rec.ErrorMessage, "webhook answered "+http.StatusText(want)[:0]) {
			t.Errorf("attempt %d error %q", i+1, rec.ErrorMessage)
		}
	}
	if !strings.Contains(recs[0].ErrorMessage, "500") || !strings.Contains(recs[0].ErrorMessage, `{"error":"nope"}`) {
		t.Errorf("first error %q, want the status and the body", recs[0].ErrorMessage)
	}

	reqs := srv.got()
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests", len(reqs))
	}
	for i, req := range reqs {
		if req.header.Get("X-Ratchet-Attempt") != []string{"1", "2", "3"}[i] {
			t.Errorf("request %d attempt header %q", i, req.header.Get("X-Ratchet-Attempt"))
		}
		if req.header.Get("X-Ratchet-Delivery") != reqs[0].header.Get("X-Ratchet-Delivery") || string(req.body) != string(reqs[0].body) {
			t.Errorf("request %d differs from the first: the delivery id and body must be stable", i)
		}
	}
}

func TestWebhookStatusClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		attempts int
	}{
		{400, 1}, {401, 1}, {404, 1}, {422, 1},
		{301, 1}, // redirects are not followed
		{408, 3}, {429, 3}, {500, 3}, {502, 3},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := newHookServer(t, tt.status)
			job, exec := sampleJob()
			d := newDeliverer(t, nil, delivery.Config{})
			r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{"url": srv.URL})})[0]
			if r.Success || r.Attempts != tt.attempts || r.StatusCode == nil || *r.StatusCode != tt.status {
				t.Fatalf("result %+v, want %d attempts ending in %d", r, tt.attempts, tt.status)
			}
			for _, req := range srv.got() {
				if req.path == "/elsewhere" {
					t.Fatal("the redirect was followed")
				}
			}
		})
	}
}

func TestWebhookEnvelopeAndSignature(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t"
	tests := []struct {
		name, header string
		cfg          map[string]any
	}{
		{"default header", "X-Ratchet-Signature", map[string]any{"secret": secret}},
		{"custom header", "X-Hub-Signature-256", map[string]any{"secret": secret, "header": "X-Hub-Signature-256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var verified atomic.Bool
			var env delivery.Envelope
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mac := hmac.New(sha256.New, []byte(secret))
				mac.Write(body)
				want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
				if !hmac.Equal([]byte(r.Header.Get(tt.header)), []byte(want)) {
					http.Error(w, "bad signature", http.StatusUnauthorized)
					return
				}
				verified.Store(delivery.VerifySignature(secret, body, r.Header.Get(tt.header)) &&
					!delivery.VerifySignature("other", body, r.Header.Get(tt.header)))
				if err := json.Unmarshal(body, &env); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			job, exec := sampleJob()
			d := newDeliverer(t, nil, delivery.Config{})
			r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{"url": srv.URL, "signature": tt.cfg})})[0]
			if !r.Success || *r.StatusCode != 204 {
				t.Fatalf("result %+v", r)
			}
			if !verified.Load() {
				t.Fatal("VerifySignature disagrees with the recomputed HMAC")
			}
			if env.JobID == nil || *env.JobID != 42 || env.JobUUID != "job-uuid-1" || env.ExecutionID == nil || *env.ExecutionID != 7 ||
				env.TaskID != 3 || env.TaskName != "weather" || env.TaskVersion != "1.2.0" || env.Status != "completed" ||
				env.Attempt != 2 || string(env.Output) != `{"temp":21.5}` || env.Error != nil ||
				env.CompletedAt == nil || !env.CompletedAt.Equal(*exec.CompletedAt) || env.DeliveryID == "" {
				t.Errorf("envelope %+v", env)
			}
		})
	}
}

func TestEnvelopeOfFailedExecution(t *testing.T) {
	t.Parallel()
	exec := &core.Execution{ID: 1, TaskID: 2, Status: core.ExecutionFailed, ErrorType: "NetworkError", ErrorMessage: "down"}
	env := delivery.NewEnvelope("id", nil, exec, "t", nil, time.Now())
	b, _ := json.Marshal(env)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["job_id"] != nil || m["output"] != nil || m["status"] != "failed" {
		t.Errorf("envelope %s", b)
	}
	if e, _ := m["error"].(map[string]any); e["type"] != "NetworkError" || e["message"] != "down" {
		t.Errorf("error %v", m["error"])
	}
}

func TestWebhookAuthAndHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    map[string]any
		check  func(c captured) bool
		method string
	}{
		{"bearer", map[string]any{"auth": map[string]any{"type": "bearer", "token": "tok"}},
			func(c captured) bool { return c.header.Get("Authorization") == "Bearer tok" }, "POST"},
		{"basic", map[string]any{"auth": map[string]any{"type": "basic", "username": "u", "password": "p w"}},
			func(c captured) bool {
				r := &http.Request{Header: c.header}
				u, p, ok := r.BasicAuth()
				return ok && u == "u" && p == "p w"
			}, "POST"},
		{"api key default header", map[string]any{"auth": map[string]any{"type": "api_key", "key": "k1"}},
			func(c captured) bool { return c.header.Get("X-API-Key") == "k1" }, "POST"},
		{"api key custom header", map[string]any{"auth": map[string]any{"type": "api_key", "key": "k2", "header": "X-Token"}},
			func(c captured) bool { return c.header.Get("X-Token") == "k2" && c.header.Get("X-API-Key") == "" }, "POST"},
		{"headers and method", map[string]any{"method": "put", "headers": map[string]any{"X-Team": "data", "User-Agent": "custom"}},
			func(c captured) bool {
				return c.header.Get("X-Team") == "data" && c.header.Get("User-Agent") == "custom" &&
					c.header.Get("Content-Type") == "application/json"
			}, "PUT"},
		{"auth wins over headers", map[string]any{"headers": map[string]any{"Authorization": "Bearer spoof"}, "auth": map[string]any{"type": "bearer", "token": "real"}},
			func(c captured) bool { return c.header.Get("Authorization") == "Bearer real" }, "POST"},
		{"default user agent", map[string]any{},
			func(c captured) bool { return c.header.Get("User-Agent") == delivery.UserAgent }, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newHookServer(t, 200)
			cfg := map[string]any{"url": srv.URL}
			for k, v := range tt.cfg {
				cfg[k] = v
			}
			job, exec := sampleJob()
			d := newDeliverer(t, nil, delivery.Config{})
			r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(cfg)})[0]
			reqs := srv.got()
			if !r.Success || len(reqs) != 1 {
				t.Fatalf("result %+v, %d requests", r, len(reqs))
			}
			if reqs[0].method != tt.method || !tt.check(reqs[0]) {
				t.Errorf("request %s with headers %v", reqs[0].method, reqs[0].header)
			}
		})
	}
}

func TestWebhookURLTemplateAndRedaction(t *testing.T) {
	t.Parallel()
	srv := newHookServer(t, 500)
	job, exec := sampleJob()
	store := &memStore{}
	d := newDeliverer(t, store, delivery.Config{DefaultRetry: retry.Policy{MaxAttempts: 1}})
	target := strings.Replace(srv.URL, "http://", "http://user:pw@", 1) + "/hooks/{{task_name}}/{{job_id}}?token=secret&s={{status}}"
	r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{"url": target})})[0]
	reqs := srv.got()
	if len(reqs) != 1 || reqs[0].path != "/hooks/weather/42" || reqs[0].query != "token=secret&s=completed" {
		t.Fatalf("requests %+v", reqs)
	}
	if r.Destination != srv.URL+"/hooks/weather/42" {
		t.Errorf("destination %q, want it without user info and query", r.Destination)
	}

	// A connection error must not leak the query either.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	r = d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{"url": closed.URL + "/x?token=secret"})})[0]
	if r.Success || r.StatusCode != nil || r.ErrorMessage == "" {
		t.Fatalf("result %+v, want a connection error", r)
	}
	for _, rec := range store.all() {
		if strings.Contains(rec.ErrorMessage+rec.Destination, "secret") || strings.Contains(rec.Destination, "pw") {
			t.Errorf("record leaks a secret: %+v", rec)
		}
	}
}

func TestWebhookTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	job, exec := sampleJob()
	d := newDeliverer(t, nil, delivery.Config{})
	r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{
		"url": srv.URL, "timeout": "50ms", "retry_policy": map[string]any{"max_attempts": 2, "initial_delay_ms": 1},
	})})[0]
	if r.Success || r.Attempts != 2 || r.StatusCode != nil || !strings.Contains(r.ErrorMessage, "no answer within 50ms") {
		t.Fatalf("result %+v, want 2 timed-out attempts (timeouts are retried)", r)
	}

	// The default timeout applies when the destination gives none.
	d = newDeliverer(t, nil, delivery.Config{DefaultTimeout: 30 * time.Millisecond, DefaultRetry: retry.Policy{MaxAttempts: 1}})
	r = d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{"url": srv.URL})})[0]
	if r.Success || !strings.Contains(r.ErrorMessage, "no answer within 30ms") {
		t.Fatalf("result %+v, want the default timeout", r)
	}
}

func TestWebhookBreakerOpens(t *testing.T) {
	t.Parallel()
	srv := newHookServer(t, 503)
	healthy := newHookServer(t, 200)
	job, exec := sampleJob()
	d := newDeliverer(t, nil, delivery.Config{
		DefaultRetry: retry.Policy{MaxAttempts: 1},
		Breaker:      breaker.Config{FailureThreshold: 2, CoolDown: time.Hour},
	})
	failing := []core.OutputDestination{hookDest(map[string]any{"url": srv.URL + "/{{job_id}}"})}
	for i := range 2 {
		if r := d.Deliver(t.Context(), job, exec, "", failing)[0]; r.Success || *r.StatusCode != 503 {
			t.Fatalf("delivery %d: %+v", i, r)
		}
	}
	r := d.Deliver(t.Context(), job, exec, "", failing)[0]
	if r.Success || r.StatusCode != nil || r.Attempts != 1 || !strings.Contains(r.ErrorMessage, "circuit breaker") {
		t.Fatalf("third delivery %+v, want it rejected by the open breaker", r)
	}
	if n := len(srv.got()); n != 2 {
		t.Fatalf("the failing server saw %d requests, want 2 (the breaker stops the third)", n)
	}
	if states := d.Breakers().States(); len(states) != 1 {
		t.Errorf("breakers %v, want one keyed by the destination template", states)
	} else {
		for name, st := range states {
			if st != breaker.Open || !strings.Contains(name, "/{{job_id}}") {
				t.Errorf("breaker %q is %s", name, st)
			}
		}
	}
	// Other destinations are not affected.
	if r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{"url": healthy.URL})})[0]; !r.Success {
		t.Fatalf("healthy destination: %+v", r)
	}
}

func TestWebhookBadRequestsDoNotOpenBreaker(t *testing.T) {
	t.Parallel()
	srv := newHookServer(t, 400)
	job, exec := sampleJob()
	d := newDeliverer(t, nil, delivery.Config{Breaker: breaker.Config{FailureThreshold: 1, CoolDown: time.Hour}})
	for range 3 {
		d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{"url": srv.URL})})
	}
	if n := len(srv.got()); n != 3 {
		t.Fatalf("server saw %d requests, want 3: a 400 says nothing about the destination's health", n)
	}
}

func TestWebhookBoundedConcurrency(t *testing.T) {
	t.Parallel()
	const limit = 3
	var inFlight, maxInFlight atomic.Int64
	release := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		if n >= limit {
			once.Do(func() { close(release) })
		}
		select { // hold the slot until the limit was reached once
		case <-release:
		case <-time.After(5 * time.Second):
		}
		time.Sleep(2 * time.Millisecond)
	}))
	defer srv.Close()
	job, exec := sampleJob()
	store := &memStore{}
	d := newDeliverer(t, store, delivery.Config{MaxConcurrent: limit})

	dests := make([]core.OutputDestination, 8)
	for i := range dests {
		dests[i] = hookDest(map[string]any{"url": srv.URL + "/" + string(rune('a'+i))})
	}
	var wg sync.WaitGroup
	for range 3 { // concurrent Deliver calls share the bound
		wg.Go(func() {
			for _, r := range d.Deliver(t.Context(), job, exec, "", dests) {
				if !r.Success {
					t.Errorf("result %+v", r)
				}
			}
		})
	}
	wg.Wait()
	if got := maxInFlight.Load(); got != limit {
		t.Fatalf("max in flight = %d, want %d", got, limit)
	}
	if n := len(store.all()); n != 24 {
		t.Fatalf("%d records, want 24", n)
	}
}

func TestWebhookContextCancelAbandonsRetries(t *testing.T) {
	t.Parallel()
	srv := newHookServer(t, 500)
	job, exec := sampleJob()
	d := newDeliverer(t, nil, delivery.Config{DefaultRetry: retry.Policy{MaxAttempts: 5, InitialDelay: time.Hour}})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for len(srv.got()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	r := d.Deliver(ctx, job, exec, "", []core.OutputDestination{hookDest(map[string]any{"url": srv.URL})})[0]
	// The cancel lands during the first attempt or during the wait after it.
	if r.Success || r.Attempts != 1 || !(strings.Contains(r.ErrorMessage, "abandoned") || strings.Contains(r.ErrorMessage, "cancelled")) {
		t.Fatalf("result %+v, want abandoned after 1 attempt", r)
	}
}

func TestWebhookRetryPolicyOverride(t *testing.T) {
	t.Parallel()
	srv := newHookServer(t, 500)
	job, exec := sampleJob()
	d := newDeliverer(t, nil, delivery.Config{})
	r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{hookDest(map[string]any{
		"url": srv.URL, "retry_policy": map[string]any{"max_attempts": 5, "initial_delay_ms": 1, "max_delay_ms": 2},
	})})[0]
	if r.Attempts != 5 || len(srv.got()) != 5 {
		t.Fatalf("result %+v, %d requests; want the destination's 5 attempts", r, len(srv.got()))
	}
}
