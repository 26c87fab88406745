package fetch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dop251/goja"
	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/resilience/breaker"
	"github.com/ratchet-go/ratchet/runtime/jshost"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo answers with what it received, or with the status in ?status=.
func echoServer(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Custom-Header", "Yes")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "body": string(body), "contentType": r.Header.Get("Content-Type"),
			"ua": r.Header.Get("User-Agent"), "auth": r.Header.Get("Authorization"),
		})
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.URL.Query().Get("code"), &code)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"code": %d}`, code)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, `{"looks": "like json"}`)
	})
	mux.HandleFunc("/badjson", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `not json`)
	})
	mux.HandleFunc("/problem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
		fmt.Fprint(w, `{"title": "x"}`)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/redirect/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/redirect/"), &n)
		if n == 0 {
			http.Redirect(w, r, "/echo", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/redirect/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", 2000))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type harness struct {
	rt *goja.Runtime
	s  *Session
}

func newHarness(t testing.TB, cfg Config, opts Options) *harness {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt := goja.New()
	if err := jshost.InstallErrors(rt); err != nil {
		t.Fatal(err)
	}
	s, err := c.Install(context.Background(), rt, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{rt: rt, s: s}
}

// run evaluates an expression and returns it as JSON, or the thrown error
// as "Name: message [status]".
func (h *harness) run(t testing.TB, src string) string {
	t.Helper()
	v, err := h.rt.RunString(`(function(){ try { return JSON.stringify(` + src + `) } catch (e) {
		if (!(e instanceof Error)) throw e;
		return JSON.stringify(e.name + ": " + e.message + (e.status ? " [" + e.status + "]" : "") + (e.response ? " resp=" + e.response.status : "")) } })()`)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return v.String()
}

func TestFetchOptions(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	h := newHarness(t, Config{UserAgent: "test-agent", MaxRedirects: DefaultMaxRedirects}, Options{})
	u := srv.URL
	tests := []struct{ name, expr, want string }{
		{"get", fmt.Sprintf(`fetch(%q).body.method`, u+"/echo"), `"GET"`},
		{"response fields", fmt.Sprintf(`(function(r){ return [r.ok, r.status, r.statusText, r.url, r.headers["x-custom-header"], r.headers["content-type"], r.headers["x-multi"]] })(fetch(%q))`, u+"/echo"),
			fmt.Sprintf(`[true,200,"OK",%q,"Yes","application/json","a, b"]`, u+"/echo")},
		{"user agent", fmt.Sprintf(`fetch(%q).body.ua`, u+"/echo"), `"test-agent"`},
		{"own user agent", fmt.Sprintf(`fetch(%q, {headers: {"User-Agent": "mine"}}).body.ua`, u+"/echo"), `"mine"`},
		{"method and headers", fmt.Sprintf(`(function(r){ return [r.body.method, r.body.auth] })(fetch(%q, {method: "delete", headers: {Authorization: "Bearer t"}}))`, u+"/echo"), `["DELETE","Bearer t"]`},
		{"object body as option", fmt.Sprintf(`(function(r){ return [r.body.body, r.body.contentType] })(fetch(%q, {method: "POST", body: {a: 1}}))`, u+"/echo"), `["{\"a\":1}","application/json"]`},
		{"string body as third argument", fmt.Sprintf(`(function(r){ return [r.body.body, r.body.contentType] })(fetch(%q, {method: "POST"}, "raw text"))`, u+"/echo"), `["raw text","text/plain;charset=UTF-8"]`},
		{"object body as third argument", fmt.Sprintf(`fetch(%q, {method: "PUT"}, [1, 2]).body.body`, u+"/echo"), `"[1,2]"`},
		{"own content type kept", fmt.Sprintf(`fetch(%q, {method: "POST", headers: {"content-type": "application/vnd+json"}, body: {a: 1}}).body.contentType`, u+"/echo"), `"application/vnd+json"`},
		{"json() and text()", fmt.Sprintf(`(function(r){ return [r.json().method, typeof r.text()] })(fetch(%q))`, u+"/echo"), `["GET","string"]`},
		{"text content type stays text", fmt.Sprintf(`fetch(%q).body`, u+"/text"), `"{\"looks\": \"like json\"}"`},
		{"json() parses text", fmt.Sprintf(`fetch(%q).json().looks`, u+"/text"), `"like json"`},
		{"invalid json stays text", fmt.Sprintf(`fetch(%q).body`, u+"/badjson"), `"not json"`},
		{"json() on invalid json throws", fmt.Sprintf(`fetch(%q).json()`, u+"/badjson"), `"SyntaxError: invalid character 'o' in literal null (expecting 'u')"`},
		{"+json content type", fmt.Sprintf(`fetch(%q).body.title`, u+"/problem"), `"x"`},
		{"redirect followed", fmt.Sprintf(`(function(r){ return [r.status, r.url] })(fetch(%q))`, u+"/redirect/2"), fmt.Sprintf(`[200,%q]`, u+"/echo")},
		{"too many redirects", fmt.Sprintf(`fetch(%q)`, u+"/redirect/20"), `"NetworkError: GET ` + u + `/redirect/20 failed: stopped after 10 redirects"`},
		{"timeout option", fmt.Sprintf(`fetch(%q, {timeout: 50})`, u+"/slow"), `"TimeoutError: GET ` + u + `/slow timed out after 50ms"`},
		{"connection refused", `fetch("http://127.0.0.1:1/x")`, `"NetworkError: GET http://127.0.0.1:1/x failed`},
		{"invalid url", `fetch("ftp://x/y")`, `"ValidationError: fetch: invalid URL`},
		{"no url", `fetch()`, `"ValidationError: fetch needs a URL"`},
		{"bad timeout", fmt.Sprintf(`fetch(%q, {timeout: -1})`, u), `"ValidationError: fetch: timeout must be a positive`},
		{"await works", fmt.Sprintf(`(async function(){ const r = await fetch(%q); return (await r.json()).method })()`, u+"/echo"), `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := h.run(t, tt.expr)
			if !strings.HasPrefix(got, strings.TrimSuffix(tt.want, `"`)) {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if n := len(h.s.Requests()); n < 15 {
		t.Fatalf("logged %d requests", n)
	}
}

func TestStatusErrors(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	h := newHarness(t, Config{}, Options{})
	for code, want := range map[int]string{
		400: "HttpError", 401: "AuthenticationError", 403: "AuthorizationError", 404: "NotFoundError",
		409: "HttpError", 418: "HttpError", 429: "RateLimitError", 500: "ServiceUnavailableError",
		502: "ServiceUnavailableError", 503: "ServiceUnavailableError",
	} {
		u := fmt.Sprintf("%s/status?code=%d", srv.URL, code)
		got := h.run(t, fmt.Sprintf(`fetch(%q)`, u))
		prefix := fmt.Sprintf("\"%s: GET %s responded %d", want, u, code)
		suffix := fmt.Sprintf("[%d] resp=%d\"", code, code)
		if !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, suffix) {
			t.Errorf("%d: got %s", code, got)
		}
		// throwOnError: false returns the response.
		got = h.run(t, fmt.Sprintf(`(function(r){ return [r.ok, r.status, r.body.code] })(fetch(%q, {throwOnError: false}))`, u))
		if got != fmt.Sprintf("[false,%d,%d]", code, code) {
			t.Errorf("%d without throw: %s", code, got)
		}
	}
	// The thrown error is an instance of its class and of Error, with the response.
	got := h.run(t, fmt.Sprintf(`(function(){ try { fetch(%q) } catch (e) { return [e instanceof NotFoundError, e instanceof Error, e.name, e.status, e.response.body.code] } })()`, srv.URL+"/status?code=404"))
	if got != `[true,true,"NotFoundError",404,404]` {
		t.Fatalf("got %s", got)
	}
}

func TestHostLists(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	su, _ := url.Parse(srv.URL)
	tests := []struct {
		name            string
		allowed, denied []string
		ok              bool
	}{
		{"no lists", nil, nil, true},
		{"allowed exact", []string{"127.0.0.1"}, nil, true},
		{"allowed host:port", []string{su.Host}, nil, true},
		{"allowed other port", []string{"127.0.0.1:1"}, nil, false},
		{"not allowed", []string{"api.example.com"}, nil, false},
		{"allowed star", []string{"*"}, nil, true},
		{"denied", nil, []string{"127.0.0.1"}, false},
		{"deny wins", []string{"127.0.0.1"}, []string{"127.0.0.1"}, false},
		{"denied other", nil, []string{"example.com"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{AllowedHosts: tt.allowed, DeniedHosts: tt.denied}, Options{})
			got := h.run(t, fmt.Sprintf(`fetch(%q).status`, srv.URL+"/echo"))
			if tt.ok != (got == "200") {
				t.Fatalf("got %s", got)
			}
			if !tt.ok && !strings.Contains(got, `ConfigurationError: fetch to host \"127.0.0.1\" is not allowed`) {
				t.Fatalf("got %s", got)
			}
		})
	}
	// A redirect to a denied host is refused.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:1/secret", http.StatusFound)
	}))
	t.Cleanup(target.Close)
	h := newHarness(t, Config{DeniedHosts: []string{"localhost"}, MaxRedirects: DefaultMaxRedirects}, Options{})
	if got := h.run(t, fmt.Sprintf(`fetch(%q)`, target.URL)); !strings.Contains(got, `ConfigurationError`) {
		t.Fatalf("redirect: got %s", got)
	}
}

func TestHostMatches(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern, host, hostPort string
		want                    bool
	}{
		{"example.com", "example.com", "example.com", true},
		{"Example.COM", "example.com", "example.com:443", true},
		{"example.com", "api.example.com", "api.example.com", false},
		{"*.example.com", "api.example.com", "api.example.com", true},
		{"*.example.com", "a.b.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", "example.com", false},
		{"*.example.com", "badexample.com", "badexample.com", false},
		{"example.com:8080", "example.com", "example.com:8080", true},
		{"example.com:8080", "example.com", "example.com:9090", false},
		{"[::1]", "::1", "[::1]:80", true},
		{"*", "anything", "anything", true},
	} {
		if got := hostMatches(tt.pattern, tt.host, tt.hostPort); got != tt.want {
			t.Errorf("hostMatches(%q, %q, %q) = %v", tt.pattern, tt.host, tt.hostPort, got)
		}
	}
	if _, err := NewClient(Config{AllowedHosts: []string{"http://x"}}); err == nil {
		t.Error("a URL accepted as a host pattern")
	}
}

func TestTLSVerification(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secure") }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	strict := newHarness(t, Config{}, Options{})
	if got := strict.run(t, fmt.Sprintf(`fetch(%q).body`, srv.URL)); !strings.Contains(got, "NetworkError") || !strings.Contains(got, "certificate") {
		t.Fatalf("self-signed certificate accepted: %s", got)
	}
	lax := newHarness(t, Config{InsecureSkipVerify: true}, Options{})
	if got := lax.run(t, fmt.Sprintf(`fetch(%q).body`, srv.URL)); got != `"secure"` {
		t.Fatalf("got %s", got)
	}
}

func TestLimitsAndDefaultTimeout(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	h := newHarness(t, Config{MaxResponseBytes: 1000, MaxRequestBytes: 10, Timeout: 50 * time.Millisecond}, Options{})
	if got := h.run(t, fmt.Sprintf(`fetch(%q)`, srv.URL+"/big")); !strings.Contains(got, "DataError") {
		t.Errorf("big response: %s", got)
	}
	if got := h.run(t, fmt.Sprintf(`fetch(%q, {method: "POST", body: "more than ten bytes"})`, srv.URL+"/echo")); !strings.Contains(got, "ValidationError") {
		t.Errorf("big request: %s", got)
	}
	if got := h.run(t, fmt.Sprintf(`fetch(%q)`, srv.URL+"/slow")); !strings.Contains(got, "TimeoutError") || !strings.Contains(got, "50ms") {
		t.Errorf("default timeout: %s", got)
	}
	noRedirect := newHarness(t, Config{MaxRedirects: -1}, Options{})
	if got := noRedirect.run(t, fmt.Sprintf(`fetch(%q, {throwOnError: false}).status`, srv.URL+"/redirect/0")); got != "302" {
		t.Errorf("redirects off: %s", got)
	}
}

func TestMaxRedirects(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	u := srv.URL + "/redirect/1" // two redirects, then /echo
	tests := []struct {
		max  int
		expr string
		want string
	}{
		{0, fmt.Sprintf(`(function(r){ return [r.status, r.url] })(fetch(%q, {throwOnError: false}))`, u), fmt.Sprintf(`[302,%q]`, u)},
		{0, fmt.Sprintf(`fetch(%q)`, u), `"HttpError: GET ` + u + ` responded 302 Found [302] resp=302"`},
		{-1, fmt.Sprintf(`fetch(%q, {throwOnError: false}).status`, u), `302`},
		{1, fmt.Sprintf(`fetch(%q)`, u), `"NetworkError: GET ` + u + ` failed: stopped after 1 redirects"`},
		{2, fmt.Sprintf(`fetch(%q).status`, u), `200`},
		{DefaultMaxRedirects, fmt.Sprintf(`fetch(%q).status`, u), `200`},
	}
	for _, tt := range tests {
		h := newHarness(t, Config{MaxRedirects: tt.max}, Options{})
		if got := h.run(t, tt.expr); got != tt.want {
			t.Errorf("max %d: %s\n got  %s\n want %s", tt.max, tt.expr, got, tt.want)
		}
	}
}

type recorder struct {
	mu sync.Mutex
	ex []Exchange
}

func (r *recorder) Record(e Exchange) { r.mu.Lock(); r.ex = append(r.ex, e); r.mu.Unlock() }

func TestMocksAndRecorder(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	mocks := []Mock{
		{URL: "api.example.com/users/1", Method: "GET", Response: MockResponse{Body: json.RawMessage(`{"id": 1}`)}},
		{URL: "api.example.com/users", Method: "POST", Response: MockResponse{Status: 201, Headers: map[string]string{"X-Id": "9"}, Body: json.RawMessage(`"created"`)}},
		{URL: "api.example.com/missing", Response: MockResponse{Status: 404, Body: json.RawMessage(`{"error": "no"}`)}},
		{URL: "api.example.com/flaky", Response: MockResponse{Status: 500, OK: ptr(true)}},
		{URL: "api.example.com", Response: MockResponse{Body: json.RawMessage(`[1, 2]`)}},
	}
	h := newHarness(t, Config{}, Options{Mocks: mocks, NetworkDisabled: true, Recorder: rec})
	tests := []struct{ expr, want string }{
		{`fetch("https://api.example.com/users/1").body.id`, `1`},
		{`(function(r){ return [r.status, r.ok, r.body, r.headers["x-id"], r.statusText, r.text()] })(fetch("https://api.example.com/users", {method: "POST", body: {}}))`, `[201,true,"created","9","Created","created"]`},
		{`fetch("https://api.example.com/users/2").body`, `[1,2]`},
		{`fetch("https://api.example.com/missing")`, `"NotFoundError: GET https://api.example.com/missing responded 404 Not Found [404] resp=404"`},
		{`fetch("https://api.example.com/flaky").status`, `"ServiceUnavailableError: GET https://api.example.com/flaky responded 500 Internal Server Error [500] resp=500"`},
		{`fetch("https://other.example.com/")`, `"NetworkError: network is off during tests and no mock matches GET https://other.example.com/"`},
		{`fetch("https://api.example.com/users/1", {method: "DELETE"}).body`, `[1,2]`},
	}
	for _, tt := range tests {
		if got := h.run(t, tt.expr); got != tt.want {
			t.Errorf("%s\n got  %s\n want %s", tt.expr, got, tt.want)
		}
	}
	logs := h.s.Requests()
	if len(logs) != len(tests) || !logs[0].Mocked || logs[0].Status != 200 || logs[5].Error == "" || logs[5].Mocked {
		t.Fatalf("logs = %+v", logs)
	}
	if len(rec.ex) != len(tests) || rec.ex[1].Method != "POST" || string(rec.ex[1].RequestBody) != "{}" || string(rec.ex[1].ResponseBody) != "created" {
		t.Fatalf("recorded = %+v", rec.ex)
	}
}

func TestMockBodiesAndStatus(t *testing.T) {
	t.Parallel()
	jsonCT := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name string
		mock Mock
		expr string
		want string
	}{
		{"string body with JSON content type stays text",
			Mock{URL: "x.test", Response: MockResponse{Headers: jsonCT, Body: json.RawMessage(`"{\"a\":1}"`)}},
			`(function(r){ return [typeof r.body, r.body, r.json().a] })(fetch("https://x.test/a"))`, `["string","{\"a\":1}",1]`},
		{"raw string body with JSON content type is parsed (replay)",
			Mock{URL: "x.test", Response: MockResponse{Headers: jsonCT, Body: json.RawMessage(`"{\"a\":1}"`), Raw: true}},
			`fetch("https://x.test/a").body.a`, `1`},
		{"status 200 with ok false does not throw",
			Mock{URL: "x.test", Response: MockResponse{Status: 200, OK: ptr(false), Body: json.RawMessage(`"k"`)}},
			`(function(r){ return [r.status, r.ok, r.body] })(fetch("https://x.test/a"))`, `[200,false,"k"]`},
		{"status 500 with ok true throws",
			Mock{URL: "x.test", Response: MockResponse{Status: 500, OK: ptr(true)}},
			`fetch("https://x.test/a").status`, `"ServiceUnavailableError: GET https://x.test/a responded 500 Internal Server Error [500] resp=500"`},
		{"status 500 with ok true and throwOnError false",
			Mock{URL: "x.test", Response: MockResponse{Status: 500, OK: ptr(true)}},
			`(function(r){ return [r.status, r.ok] })(fetch("https://x.test/a", {throwOnError: false}))`, `[500,true]`},
		{"exact mock does not match a longer URL",
			Mock{URL: "https://x.test/a", Exact: true, Response: MockResponse{Body: json.RawMessage(`1`)}},
			`fetch("https://x.test/a?page=2").body`, `"NetworkError: network is off during tests and no mock matches GET https://x.test/a?page=2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Config{}, Options{Mocks: []Mock{tt.mock}, NetworkDisabled: true})
			if got := h.run(t, tt.expr); got != tt.want {
				t.Errorf("%s\n got  %s\n want %s", tt.expr, got, tt.want)
			}
		})
	}
}

func TestOnceMocksAnswerInOrder(t *testing.T) {
	t.Parallel()
	mocks := []Mock{
		{URL: "https://x.test/a", Method: "GET", Exact: true, Once: true, Response: MockResponse{Body: json.RawMessage(`1`)}},
		{URL: "https://x.test/a", Method: "GET", Exact: true, Once: true, Response: MockResponse{Body: json.RawMessage(`2`)}},
	}
	h := newHarness(t, Config{}, Options{Mocks: mocks, NetworkDisabled: true})
	for i, want := range []string{`1`, `2`, `"NetworkError: network is off during tests and no mock matches GET https://x.test/a"`} {
		if got := h.run(t, `fetch("https://x.test/a").body`); got != want {
			t.Errorf("call %d: got %s, want %s", i+1, got, want)
		}
	}
}

func TestBreaker(t *testing.T) {
	t.Parallel()
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.WriteHeader(503)
	}))
	t.Cleanup(srv.Close)
	reg, err := breaker.NewRegistry(breaker.Config{FailureThreshold: 2, CoolDown: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Breakers: reg}, Options{})
	for i := 0; i < 4; i++ {
		h.run(t, fmt.Sprintf(`fetch(%q)`, srv.URL))
	}
	got := h.run(t, fmt.Sprintf(`fetch(%q)`, srv.URL))
	if !strings.Contains(got, "ServiceUnavailableError") || !strings.Contains(got, "circuit breaker") {
		t.Fatalf("got %s", got)
	}
	if calls != 2 {
		t.Fatalf("server called %d times, want 2", calls)
	}
}

func TestParseMocks(t *testing.T) {
	t.Parallel()
	one, err := ParseMocks(json.RawMessage(`{"url": "x", "response": {"status": 404, "body": "no"}}`))
	if err != nil || len(one) != 1 || one[0].Response.IsOK() || one[0].Response.StatusCode() != 404 {
		t.Fatalf("one = %+v, %v", one, err)
	}
	list, err := ParseMocks(json.RawMessage(`[{"url": "a", "method": "post", "response": {}}, {"url": "b", "response": {"ok": false}}]`))
	if err != nil || len(list) != 2 || list[0].Method != "POST" || !list[0].Response.IsOK() || list[1].Response.IsOK() {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if m, ok := Find(list, "GET", "https://x/b/c"); !ok || m.URL != "b" {
		t.Fatalf("Find = %+v %v", m, ok)
	}
	if _, ok := Find(list, "GET", "https://x/a"); ok {
		t.Fatal("method ignored")
	}
	for _, bad := range []string{`1`, `{"response": {}}`, `{"url": "x"}`, `{"url": "x", "response": {"status": "200"}}`, `[{"url": 1}]`} {
		if _, err := ParseMocks(json.RawMessage(bad)); err == nil {
			t.Errorf("ParseMocks(%s) accepted", bad)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func BenchmarkFetchLocal(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok": true, "items": [1, 2, 3]}`)
	}))
	defer srv.Close()
	h := newHarness(b, Config{}, Options{})
	v, err := h.rt.RunString(fmt.Sprintf(`(function(){ return fetch(%q).body.items.length })`, srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	fn, _ := goja.AssertFunction(v)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fn(goja.Undefined()); err != nil {
			b.Fatal(err)
		}
	}
}
