// Package fetch is the synchronous fetch of SPEC §2.3 that tasks use to call
// HTTP APIs.
//
// A Client holds the configuration (http.* in the server config) and the
// connection pool, and is shared by every execution. Client.Install gives one
// runtime a fetch function bound to one execution: its context, its mocks,
// whether the network is on, its recorder, and its log of requests.
//
// Host lists: DeniedHosts wins over AllowedHosts; when AllowedHosts is not
// empty only the hosts it names may be reached. Entries are host names
// ("api.example.com"), host:port, or wildcards ("*.example.com" matches the
// sub-domains, not example.com itself; "*" matches every host). A request to
// a host the lists refuse throws ConfigurationError naming the host: the task
// cannot succeed by retrying, the server's configuration must change. A
// redirect to such a host is refused the same way.
package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/resilience/breaker"
	"github.com/ratchet-go/ratchet/runtime/jshost"
)

// DefaultMaxRedirects is the default of http.max_redirects.
const DefaultMaxRedirects = 10

// Config configures fetch. Zero fields take the defaults named below, except
// MaxRedirects.
type Config struct {
	// Timeout is the default timeout of one request (options.timeout
	// overrides it). Default 30s.
	Timeout time.Duration
	// MaxRedirects is how many redirects a request follows; 0 (or
	// negative) follows none and returns the 3xx response, so that
	// http.max_redirects: 0 means what it says. Unlike the other fields,
	// zero is not replaced by a default: the configuration's default
	// (http.max_redirects) is DefaultMaxRedirects.
	MaxRedirects int
	// UserAgent is sent when the task sets no User-Agent header. Default
	// "Ratchet/1.0".
	UserAgent string
	// InsecureSkipVerify turns TLS certificate verification off
	// (http.verify_ssl: false).
	InsecureSkipVerify bool
	// AllowedHosts, when not empty, lists the only hosts fetch may reach.
	AllowedHosts []string
	// DeniedHosts lists hosts fetch may not reach; it wins over AllowedHosts.
	DeniedHosts []string
	// MaxResponseBytes bounds a response body. Default 10 MiB.
	MaxResponseBytes int64
	// MaxRequestBytes bounds a request body. Default 10 MiB.
	MaxRequestBytes int
	// Breakers, when set, guards each host with a circuit breaker: a host
	// that keeps failing (network errors, 5xx) is not called for a while
	// and fetch throws ServiceUnavailableError at once.
	Breakers *breaker.Registry
	// Transport overrides the HTTP transport (tests). When set,
	// InsecureSkipVerify is not applied.
	Transport http.RoundTripper
}

func (c Config) withDefaults() (Config, error) {
	if c.Timeout < 0 {
		return c, fmt.Errorf("fetch timeout must not be negative, got %s", c.Timeout)
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = "Ratchet/1.0"
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = 10 << 20
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = 10 << 20
	}
	for _, list := range [][]string{c.AllowedHosts, c.DeniedHosts} {
		for _, h := range list {
			if strings.TrimSpace(h) == "" || strings.ContainsAny(h, "/ ") {
				return c, fmt.Errorf("invalid host pattern %q: use a host name, host:port or *.domain", h)
			}
		}
	}
	return c, nil
}

// Client makes the requests of every execution. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// NewClient returns a client for cfg.
func NewClient(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	transport := cfg.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil // tasks reach hosts directly: the host lists must mean what they say
		if cfg.InsecureSkipVerify {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator turned verification off
		}
		t.MaxIdleConnsPerHost = 16
		transport = t
	}
	c := &Client{cfg: cfg}
	c.http = &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if cfg.MaxRedirects <= 0 {
				return http.ErrUseLastResponse
			}
			if len(via) > cfg.MaxRedirects {
				return &redirectError{n: cfg.MaxRedirects}
			}
			if err := c.checkHost(req.URL); err != nil {
				return err
			}
			return nil
		},
	}
	return c, nil
}

// Config returns the client's configuration with defaults filled in.
func (c *Client) Config() Config { return c.cfg }

type redirectError struct{ n int }

func (e *redirectError) Error() string { return fmt.Sprintf("stopped after %d redirects", e.n) }

// hostError is a request to a host the lists refuse.
type hostError struct{ host, reason string }

func (e *hostError) Error() string {
	return fmt.Sprintf("fetch to host %q is not allowed: %s", e.host, e.reason)
}

// HostAllowed reports whether the lists let fetch reach u.
func (c *Client) HostAllowed(u *url.URL) bool { return c.checkHost(u) == nil }

func (c *Client) checkHost(u *url.URL) error {
	host := strings.ToLower(u.Hostname())
	hostPort := strings.ToLower(u.Host)
	for _, p := range c.cfg.DeniedHosts {
		if hostMatches(p, host, hostPort) {
			return &hostError{host: host, reason: "it is in http.denied_hosts"}
		}
	}
	if len(c.cfg.AllowedHosts) == 0 {
		return nil
	}
	for _, p := range c.cfg.AllowedHosts {
		if hostMatches(p, host, hostPort) {
			return nil
		}
	}
	return &hostError{host: host, reason: "it is not in http.allowed_hosts"}
}

func hostMatches(pattern, host, hostPort string) bool {
	p := strings.ToLower(strings.TrimSpace(pattern))
	p = strings.TrimSuffix(p, ".")
	host = strings.TrimSuffix(host, ".")
	switch {
	case p == "*":
		return true
	case strings.HasPrefix(p, "*."):
		suffix := p[1:] // ".example.com"
		if strings.Contains(suffix, ":") {
			return strings.HasSuffix(hostPort, suffix) && len(hostPort) > len(suffix)
		}
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	case strings.Contains(p, ":") && !strings.HasPrefix(p, "["):
		return p == hostPort
	case strings.HasPrefix(p, "["): // [::1] or [::1]:8080
		if strings.Contains(p, "]:") {
			return p == hostPort
		}
		return strings.Trim(p, "[]") == host
	}
	return p == host
}

// Exchange is one request and its response, as a Recorder receives it.
type Exchange struct {
	StartedAt       time.Time
	Duration        time.Duration
	Method          string
	URL             string
	RequestHeaders  http.Header
	RequestBody     []byte
	Status          int
	StatusText      string
	ResponseHeaders http.Header
	ResponseBody    []byte
	// FinalURL is the URL after redirects.
	FinalURL string
	Mocked   bool
	// Err is set when no response was received.
	Err error
}

// Recorder receives every exchange of an execution, in order.
type Recorder interface {
	Record(Exchange)
}

// Options are the per-execution settings of fetch.
type Options struct {
	// Mocks answer matching requests without the network (SPEC §2.5).
	Mocks []Mock
	// NetworkDisabled makes a request that no mock answers throw
	// NetworkError naming the URL.
	NetworkDisabled bool
	// Recorder, when set, receives every exchange.
	Recorder Recorder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Session is fetch bound to one execution.
type Session struct {
	c    *Client
	ctx  context.Context
	rt   *goja.Runtime
	opts Options

	mu   sync.Mutex
	logs []core.HTTPRequestLog
	// used marks the once mocks that have answered.
	used []bool
	// refused is set when a request was refused because the network is off.
	refused bool

	jsonParse     goja.Callable
	jsonStringify goja.Callable
}

// Install defines fetch in rt for one execution. ctx bounds every request.
func (c *Client) Install(ctx context.Context, rt *goja.Runtime, opts Options) (*Session, error) {
	s := &Session{c: c, ctx: ctx, rt: rt, opts: opts}
	json := rt.GlobalObject().Get("JSON").ToObject(rt)
	var ok bool
	if s.jsonParse, ok = goja.AssertFunction(json.Get("parse")); !ok {
		return nil, errors.New("JSON.parse missing")
	}
	if s.jsonStringify, ok = goja.AssertFunction(json.Get("stringify")); !ok {
		return nil, errors.New("JSON.stringify missing")
	}
	if err := rt.Set("fetch", s.fetch); err != nil {
		return nil, err
	}
	return s, nil
}

// Requests returns the log of the requests made so far.
func (s *Session) Requests() []core.HTTPRequestLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]core.HTTPRequestLog(nil), s.logs...)
}

// NetworkRefused reports whether a request was refused because the network
// is off and no mock answered it.
func (s *Session) NetworkRefused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Session) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// request is a fetch call's arguments, read from JavaScript.
type request struct {
	method       string
	url          *url.URL
	headers      http.Header
	body         []byte
	hasBody      bool
	timeout      time.Duration
	throwOnError bool
}

// response is what a real request or a mock answered.
type response struct {
	status     int
	statusText string
	ok         bool
	headers    http.Header
	text       []byte
	// parsed, when set, is the body as given by a mock (JSON object, array,
	// number...).
	parsed json.RawMessage
	// textOnly keeps the body text whatever the Content-Type says: a mock's
	// string body is text (SPEC §2.5).
	textOnly bool
	finalURL string
}

func (s *Session) throw(kind core.ErrorKind, msg string, props map[string]any) {
	jshost.Throw(s.rt, kind, msg, props)
}

func (s *Session) fetch(call goja.FunctionCall) goja.Value {
	req := s.readRequest(call)
	started := s.now()
	entry := core.HTTPRequestLog{Method: req.method, URL: req.url.String(), StartedAt: started.UTC()}
	ex := Exchange{StartedAt: started, Method: req.method, URL: req.url.String(), RequestHeaders: req.headers, RequestBody: req.body}

	resp, kind, err := s.do(req, &entry)
	elapsed := s.now().Sub(started)
	entry.DurationMS = float64(elapsed.Microseconds()) / 1000
	ex.Duration = elapsed
	ex.Mocked = entry.Mocked
	if err != nil {
		entry.Error = err.Error()
		ex.Err = err
	} else {
		entry.Status = resp.status
		ex.Status, ex.StatusText, ex.ResponseHeaders, ex.FinalURL = resp.status, resp.statusText, resp.headers, resp.finalURL
		ex.ResponseBody = resp.text
	}
	s.mu.Lock()
	s.logs = append(s.logs, entry)
	s.mu.Unlock()
	if s.opts.Recorder != nil {
		s.opts.Recorder.Record(ex)
	}
	if err != nil {
		s.throw(kind, err.Error(), map[string]any{"url": req.url.String()})
	}

	obj := s.responseObject(resp)
	// throwOnError follows the status, not ok: a mock may say ok: false on
	// a 2xx status, and that response is returned (SPEC §2.3).
	if !is2xx(resp.status) && req.throwOnError {
		kind := KindForStatus(resp.status)
		msg := fmt.Sprintf("%s %s responded %d %s", req.method, req.url.String(), resp.status, resp.statusText)
		s.throw(kind, strings.TrimSpace(msg), map[string]any{"status": resp.status, "response": obj, "url": req.url.String()})
	}
	return obj
}

func is2xx(status int) bool { return status >= 200 && status <= 299 }

// KindForStatus is the error a non-2xx status throws (SPEC §2.3).
func KindForStatus(status int) core.ErrorKind {
	switch {
	case status == http.StatusUnauthorized:
		return core.KindAuthentication
	case status == http.StatusForbidden:
		return core.KindAuthorization
	case status == http.StatusNotFound:
		return core.KindNotFound
	case status == http.StatusTooManyRequests:
		return core.KindRateLimit
	case status >= 500:
		return core.KindServiceUnavailable
	}
	return core.KindHTTP
}

func (s *Session) readRequest(call goja.FunctionCall) request {
	req := request{method: http.MethodGet, headers: http.Header{}, throwOnError: true, timeout: s.c.cfg.Timeout}
	rawURL := call.Argument(0)
	if goja.IsUndefined(rawURL) || goja.IsNull(rawURL) {
		s.throw(core.KindValidation, "fetch needs a URL", nil)
	}
	if o, ok := rawURL.(*goja.Object); ok && o.Get("url") != nil && !goja.IsUndefined(o.Get("url")) {
		rawURL = o.Get("url") // a Request-like object
	}
	u, err := url.Parse(strings.TrimSpace(rawURL.String()))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		s.throw(core.KindValidation, fmt.Sprintf("fetch: invalid URL %q: only absolute http and https URLs are supported", rawURL.String()), nil)
	}
	req.url = u

	var body goja.Value
	if opts, ok := call.Argument(1).(*goja.Object); ok && opts != nil {
		if v := opts.Get("method"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
			req.method = strings.ToUpper(strings.TrimSpace(v.String()))
			if req.method == "" || strings.ContainsAny(req.method, " \t\r\n") {
				s.throw(core.KindValidation, fmt.Sprintf("fetch: invalid method %q", v.String()), nil)
			}
		}
		if h, ok := opts.Get("headers").(*goja.Object); ok && h != nil {
			for _, k := range h.Keys() {
				v := h.Get(k)
				if goja.IsUndefined(v) || goja.IsNull(v) {
					continue
				}
				req.headers.Add(k, v.String())
			}
		}
		if v := opts.Get("timeout"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
			ms := v.ToFloat()
			if ms <= 0 || ms != ms {
				s.throw(core.KindValidation, fmt.Sprintf("fetch: timeout must be a positive number of milliseconds, got %s", v.String()), nil)
			}
			req.timeout = time.Duration(ms * float64(time.Millisecond))
		}
		if v := opts.Get("throwOnError"); v != nil && !goja.IsUndefined(v) {
			req.throwOnError = v.ToBoolean()
		}
		if v := opts.Get("body"); v != nil && !goja.IsUndefined(v) {
			body = v
		}
	}
	if v := call.Argument(2); !goja.IsUndefined(v) {
		body = v
	}
	if body != nil && !goja.IsNull(body) {
		req.hasBody = true
		if goja.IsString(body) {
			req.body = []byte(body.String())
			if req.headers.Get("Content-Type") == "" {
				req.headers.Set("Content-Type", "text/plain;charset=UTF-8")
			}
		} else {
			out, err := s.jsonStringify(goja.Undefined(), body)
			if err != nil {
				s.throw(core.KindValidation, "fetch: the request body cannot be sent as JSON: "+err.Error(), nil)
			}
			req.body = []byte(out.String())
			if req.headers.Get("Content-Type") == "" {
				req.headers.Set("Content-Type", "application/json")
			}
		}
		if len(req.body) > s.c.cfg.MaxRequestBytes {
			s.throw(core.KindValidation, fmt.Sprintf("fetch: request body is %d bytes, more than the limit of %d", len(req.body), s.c.cfg.MaxRequestBytes), nil)
		}
	}
	if req.headers.Get("User-Agent") == "" {
		req.headers.Set("User-Agent", s.c.cfg.UserAgent)
	}
	return req
}

// takeMock finds the mock that answers a request and uses it up when it
// answers once.
func (s *Session) takeMock(method, url string) (Mock, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := find(s.opts.Mocks, s.used, method, url)
	if i < 0 {
		return Mock{}, false
	}
	if s.opts.Mocks[i].Once {
		if s.used == nil {
			s.used = make([]bool, len(s.opts.Mocks))
		}
		s.used[i] = true
	}
	return s.opts.Mocks[i], true
}

// do answers req from a mock or the network.
func (s *Session) do(req request, entry *core.HTTPRequestLog) (*response, core.ErrorKind, error) {
	if m, ok := s.takeMock(req.method, req.url.String()); ok {
		entry.Mocked = true
		return mockResponse(m, req.url.String()), "", nil
	}
	if s.opts.NetworkDisabled {
		s.mu.Lock()
		s.refused = true
		s.mu.Unlock()
		return nil, core.KindNetwork, fmt.Errorf("network is off during tests and no mock matches %s %s", req.method, req.url.String())
	}
	if err := s.c.checkHost(req.url); err != nil {
		return nil, core.KindConfiguration, err
	}
	var done func(bool)
	if s.c.cfg.Breakers != nil {
		b := s.c.cfg.Breakers.Get(req.url.Host)
		d, err := b.Allow()
		if err != nil {
			return nil, core.KindServiceUnavailable, fmt.Errorf("%s %s not attempted: %w", req.method, req.url.String(), err)
		}
		done = d
	}
	resp, kind, err := s.send(req)
	if done != nil {
		done(err == nil && resp.status < 500)
	}
	return resp, kind, err
}

func (s *Session) send(req request) (*response, core.ErrorKind, error) {
	ctx, cancel := context.WithTimeout(s.ctx, req.timeout)
	defer cancel()
	var body io.Reader
	if req.hasBody {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, req.url.String(), body)
	if err != nil {
		return nil, core.KindValidation, fmt.Errorf("fetch: %w", err)
	}
	hreq.Header = req.headers.Clone()
	hresp, err := s.c.http.Do(hreq)
	if err != nil {
		return nil, s.classify(ctx, err), s.describe(req, err)
	}
	defer hresp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(hresp.Body, s.c.cfg.MaxResponseBytes+1))
	if err != nil {
		return nil, s.classify(ctx, err), s.describe(req, err)
	}
	if int64(len(text)) > s.c.cfg.MaxResponseBytes {
		return nil, core.KindData, fmt.Errorf("%s %s: response body is more than the limit of %d bytes", req.method, req.url.String(), s.c.cfg.MaxResponseBytes)
	}
	statusText := strings.TrimSpace(strings.TrimPrefix(hresp.Status, fmt.Sprint(hresp.StatusCode)))
	if statusText == "" {
		statusText = http.StatusText(hresp.StatusCode)
	}
	return &response{
		status:     hresp.StatusCode,
		statusText: statusText,
		ok:         is2xx(hresp.StatusCode),
		headers:    hresp.Header,
		text:       text,
		finalURL:   hresp.Request.URL.String(),
	}, "", nil
}

func (s *Session) classify(ctx context.Context, err error) core.ErrorKind {
	var he *hostError
	if errors.As(err, &he) {
		return core.KindConfiguration
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		if s.ctx.Err() != nil && !errors.Is(context.Cause(s.ctx), context.DeadlineExceeded) {
			return core.KindCancelled
		}
		return core.KindTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return core.KindTimeout
	}
	return core.KindNetwork
}

func (s *Session) describe(req request, err error) error {
	var he *hostError
	if errors.As(err, &he) {
		return he
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		if s.ctx.Err() != nil {
			return fmt.Errorf("%s %s was stopped: the execution ran out of time", req.method, req.url.String())
		}
		return fmt.Errorf("%s %s timed out after %s", req.method, req.url.String(), req.timeout)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s %s was cancelled", req.method, req.url.String())
	}
	return fmt.Errorf("%s %s failed: %v", req.method, req.url.String(), err)
}

func mockResponse(m Mock, reqURL string) *response {
	r := m.Response
	resp := &response{
		status:     r.StatusCode(),
		statusText: r.StatusText,
		ok:         r.IsOK(),
		headers:    http.Header{},
		finalURL:   reqURL,
	}
	if resp.statusText == "" {
		resp.statusText = http.StatusText(resp.status)
	}
	for k, v := range r.Headers {
		resp.headers.Set(k, v)
	}
	body := bytes.TrimSpace(r.Body)
	switch {
	case len(body) == 0:
	case body[0] == '"':
		var s string
		_ = json.Unmarshal(body, &s)
		resp.text = []byte(s)
		resp.textOnly = !r.Raw
		if resp.headers.Get("Content-Type") == "" {
			resp.headers.Set("Content-Type", "text/plain; charset=utf-8")
		}
	default:
		resp.parsed = body
		resp.text = body
		if resp.headers.Get("Content-Type") == "" {
			resp.headers.Set("Content-Type", "application/json")
		}
	}
	return resp
}

// isJSON reports whether a content type declares JSON.
func isJSON(contentType string) bool {
	ct := strings.ToLower(contentType)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	return ct == "application/json" || strings.HasSuffix(ct, "+json") || ct == "text/json"
}

// responseObject builds {ok, status, statusText, headers, body, url, json(), text()}.
func (s *Session) responseObject(resp *response) *goja.Object {
	rt := s.rt
	obj := rt.NewObject()
	headers := rt.NewObject()
	for k, v := range resp.headers {
		_ = headers.Set(strings.ToLower(k), strings.Join(v, ", "))
	}
	text := string(resp.text)
	var body goja.Value = goja.Null()
	switch {
	case resp.parsed != nil:
		if v, err := s.jsonParse(goja.Undefined(), rt.ToValue(string(resp.parsed))); err == nil {
			body = v
		}
	case resp.text != nil:
		body = rt.ToValue(text)
		if !resp.textOnly && isJSON(resp.headers.Get("Content-Type")) {
			if v, err := s.jsonParse(goja.Undefined(), rt.ToValue(text)); err == nil {
				body = v
			}
		}
	}
	_ = obj.Set("ok", resp.ok)
	_ = obj.Set("status", resp.status)
	_ = obj.Set("statusText", resp.statusText)
	_ = obj.Set("headers", headers)
	_ = obj.Set("body", body)
	_ = obj.Set("url", resp.finalURL)
	_ = obj.Set("text", func(goja.FunctionCall) goja.Value { return rt.ToValue(text) })
	_ = obj.Set("json", func(goja.FunctionCall) goja.Value {
		if _, isString := body.Export().(string); !isString && !goja.IsNull(body) {
			return body
		}
		v, err := s.jsonParse(goja.Undefined(), rt.ToValue(text))
		if err != nil {
			var ex *goja.Exception
			if errors.As(err, &ex) {
				panic(ex.Value())
			}
			panic(rt.NewGoError(err))
		}
		return v
	})
	return obj
}
