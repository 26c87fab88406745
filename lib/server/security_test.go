package server_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server"
	"github.com/ratchet-go/ratchet/lib/server/apikey"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
)

// fakeKeys is a KeyStore over a map of hashes.
type fakeKeys struct {
	keys map[string]middleware.Key
	err  error
}

func (f fakeKeys) LookupKey(_ context.Context, hash string) (middleware.Key, error) {
	if f.err != nil {
		return middleware.Key{}, f.err
	}
	k, ok := f.keys[hash]
	if !ok {
		return middleware.Key{}, core.Errorf(core.KindNotFound, "API key not found")
	}
	return k, nil
}

func authConfig() server.Config {
	cfg := testConfig()
	cfg.Auth = config.AuthConfig{Enabled: true, APIKeys: []config.APIKey{
		{Name: "boss", Key: "admin-secret", Role: "admin"},
		{Name: "ops", Key: "operator-secret", Role: "operator"},
		{Name: "eyes", Key: "viewer-secret", Role: "viewer"},
		{Name: "dflt", Key: "default-role-secret"},
	}}
	return cfg
}

func bearer(k string) map[string]string { return map[string]string{"Authorization": "Bearer " + k} }

func TestAuth(t *testing.T) {
	t.Parallel()
	dbKey, dbHash, _ := apikey.GenerateAPIKey()
	revokedKey, revokedHash, _ := apikey.GenerateAPIKey()
	store := fakeKeys{keys: map[string]middleware.Key{
		dbHash:      {ID: 42, Name: "ci", Role: "viewer"},
		revokedHash: {ID: 43, Name: "old", Role: "admin", Revoked: true},
	}}
	s := newServer(t, authConfig(), server.Deps{KeyStore: store})
	mountTestRoutes(s)

	tests := []struct {
		name   string
		req    request
		status int
		who    string // principal name seen by the handler
		msgHas string
	}{
		{name: "no key", req: request{path: "/api/v1/test/whoami"}, status: 401, msgHas: "missing API key"},
		{name: "bad key", req: request{path: "/api/v1/test/whoami", header: bearer("nope")}, status: 401, msgHas: "invalid API key"},
		{name: "wrong scheme", req: request{path: "/api/v1/test/whoami", header: map[string]string{"Authorization": "Basic YTpi"}}, status: 401, msgHas: "unsupported Authorization scheme"},
		{name: "empty bearer", req: request{path: "/api/v1/test/whoami", header: map[string]string{"Authorization": "Bearer "}}, status: 401, msgHas: "missing API key"},
		{name: "unknown route without key", req: request{path: "/api/v1/nope"}, status: 401},
		{name: "viewer GET", req: request{path: "/api/v1/test/whoami", header: bearer("viewer-secret")}, status: 200, who: "eyes"},
		{name: "viewer POST", req: request{method: "POST", path: "/api/v1/test/whoami", header: bearer("viewer-secret")}, status: 403, msgHas: "needs operator"},
		{name: "viewer DELETE", req: request{method: "DELETE", path: "/api/v1/test/whoami", header: bearer("viewer-secret")}, status: 403},
		{name: "operator POST", req: request{method: "POST", path: "/api/v1/test/whoami", header: bearer("operator-secret")}, status: 200, who: "ops"},
		{name: "operator by X-API-Key", req: request{method: "POST", path: "/api/v1/test/whoami", header: map[string]string{"X-API-Key": "operator-secret"}}, status: 200, who: "ops"},
		{name: "default role is operator", req: request{method: "POST", path: "/api/v1/test/whoami", header: bearer("default-role-secret")}, status: 200, who: "dflt"},
		{name: "operator on an admin route", req: request{method: "DELETE", path: "/api/v1/apikeys/1", header: bearer("operator-secret")}, status: 403, msgHas: "needs admin"},
		{name: "admin on an admin route", req: request{method: "DELETE", path: "/api/v1/apikeys/1", header: bearer("admin-secret")}, status: 200, who: "boss"},
		{name: "admin POST", req: request{method: "POST", path: "/api/v1/test/whoami", header: bearer("admin-secret")}, status: 200, who: "boss"},
		{name: "database key", req: request{path: "/api/v1/test/whoami", header: bearer(dbKey)}, status: 200, who: "ci"},
		{name: "database viewer key POST", req: request{method: "POST", path: "/api/v1/test/whoami", header: bearer(dbKey)}, status: 403},
		{name: "key in the query of a WebSocket upgrade", req: request{path: "/api/v1/test/whoami?api_key=viewer-secret", header: map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"}}, status: 200, who: "eyes"},
		{name: "key in the query of a plain request", req: request{path: "/api/v1/test/whoami?api_key=viewer-secret"}, status: 401, msgHas: "missing API key"},
		{name: "header wins over the query", req: request{path: "/api/v1/test/whoami?api_key=admin-secret", header: map[string]string{"Upgrade": "websocket", "X-API-Key": "viewer-secret"}}, status: 200, who: "eyes"},
		{name: "revoked database key", req: request{path: "/api/v1/test/whoami", header: bearer(revokedKey)}, status: 401, msgHas: "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.do(t, tt.req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status >= 400 {
				env := envelope(t, rec)
				if tt.msgHas != "" && !strings.Contains(env.Message, tt.msgHas) {
					t.Errorf("message %q lacks %q", env.Message, tt.msgHas)
				}
				want := map[int]string{401: "UnauthorizedError", 403: "AuthorizationError"}[tt.status]
				if env.Error.Type != want {
					t.Errorf("type %q, want %q", env.Error.Type, want)
				}
				if tt.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				return
			}
			if got := decode[map[string]any](t, rec)["name"]; got != tt.who {
				t.Errorf("principal %v, want %q", got, tt.who)
			}
		})
	}

	t.Run("public routes need no key", func(t *testing.T) {
		s.SetReady(true, "")
		for _, p := range []string{"/health", "/health/detailed", "/ready", "/version", "/metrics",
			"/api/v1/openapi.json", "/api/v1/openapi.yaml", "/api/v1/docs"} {
			if rec := s.get(t, p); rec.Code != 200 {
				t.Errorf("GET %s without a key: %d %s", p, rec.Code, rec.Body)
			}
		}
	})
	t.Run("the key store failing is a 503, its error logged not shown", func(t *testing.T) {
		broken := newServer(t, authConfig(), server.Deps{KeyStore: fakeKeys{err: errors.New("database is locked: SELECT secret")}})
		mountTestRoutes(broken)
		rec := broken.do(t, request{path: "/api/v1/test/whoami", header: bearer("not-static")})
		if rec.Code != 503 || strings.Contains(rec.Body.String(), "SELECT") {
			t.Fatalf("status %d body %s", rec.Code, rec.Body)
		}
		lines := broken.logs.withMsg(t, "request failed")
		if len(lines) != 1 || !strings.Contains(lines[0]["error"].(string), "database is locked") {
			t.Errorf("log %v", lines)
		}
	})
	t.Run("auth off: everyone is the anonymous admin", func(t *testing.T) {
		open := newServer(t, testConfig(), depsNone())
		mountTestRoutes(open)
		rec := open.do(t, request{method: "DELETE", path: "/api/v1/apikeys/1"})
		body := decode[map[string]any](t, rec)
		if rec.Code != 200 || body["source"] != apikey.SourceAnonymous || body["role"] != "admin" {
			t.Errorf("%d %v", rec.Code, body)
		}
	})
	t.Run("a static key with an unknown role is refused at New", func(t *testing.T) {
		cfg := authConfig()
		cfg.Auth.APIKeys = append(cfg.Auth.APIKeys, config.APIKey{Name: "x", Key: "x", Role: "root"})
		if _, err := server.New(cfg, server.Deps{Logger: discard()}); err == nil {
			t.Fatal("New accepted role root")
		}
	})
}

func TestExposure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bind       string
		auth, opt  bool
		wantRefuse bool
	}{
		{"127.0.0.1", false, false, false},
		{"localhost", false, false, false},
		{"::1", false, false, false},
		{"0.0.0.0", false, false, true},
		{"", false, false, true},
		{"192.168.1.10", false, false, true},
		{"0.0.0.0", true, false, false},
		{"0.0.0.0", false, true, false},
	}
	for _, tt := range tests {
		cfg := testConfig()
		cfg.BindAddress = tt.bind
		cfg.Auth.Enabled, cfg.Auth.AllowUnauthenticated = tt.auth, tt.opt
		_, err := server.New(cfg, server.Deps{Logger: discard()})
		if refused := errors.Is(err, server.ErrUnauthenticatedExposure); refused != tt.wantRefuse {
			t.Errorf("bind %q auth %v opt-out %v: err %v, want refused %v", tt.bind, tt.auth, tt.opt, err, tt.wantRefuse)
		}
		if tt.wantRefuse && !strings.Contains(err.Error(), "allow_unauthenticated") {
			t.Errorf("the error does not say how to fix it: %v", err)
		}
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.CORS.AllowedOrigins = []string{"https://app.example.com"}
	s := newServer(t, cfg, depsNone())
	mountTestRoutes(s)

	t.Run("preflight", func(t *testing.T) {
		rec := s.do(t, request{method: "OPTIONS", path: "/api/v1/test/echo", header: map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "Content-Type, Authorization"}})
		if rec.Code != 204 {
			t.Fatalf("status %d", rec.Code)
		}
		h := rec.Header()
		if h.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-API-Key") ||
			h.Get("Access-Control-Max-Age") != "86400" {
			t.Errorf("preflight headers %v", h)
		}
	})
	t.Run("exposed headers", func(t *testing.T) {
		rec := s.do(t, request{path: "/api/v1/test/whoami", header: map[string]string{"Origin": "https://app.example.com"}})
		exposed := rec.Header().Get("Access-Control-Expose-Headers")
		for _, h := range []string{"X-Total-Count", "Content-Range", "X-RateLimit-Limit", "X-RateLimit-Remaining",
			"X-RateLimit-Reset", "Retry-After", "X-Request-ID"} {
			if !strings.Contains(exposed, h) {
				t.Errorf("Access-Control-Expose-Headers %q lacks %s", exposed, h)
			}
		}
	})
	t.Run("other origin", func(t *testing.T) {
		rec := s.do(t, request{path: "/api/v1/test/whoami", header: map[string]string{"Origin": "https://evil.example"}})
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Allow-Origin %q for another origin", got)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		cfg := testConfig()
		cfg.CORS.Enabled = false
		off := newServer(t, cfg, depsNone())
		rec := off.do(t, request{path: "/health", header: map[string]string{"Origin": "https://app.example.com"}})
		if rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Error("CORS headers while disabled")
		}
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	limited := func(profile string, rpm, burst int, auth bool) *testServer {
		cfg := testConfig()
		if auth {
			cfg = authConfig()
		}
		cfg.RateLimit = config.RateLimitConfig{Enabled: true, Profile: profile, RequestsPerMinute: rpm, BurstSize: burst}
		s := newServer(t, cfg, depsNone())
		mountTestRoutes(s)
		return s
	}

	t.Run("burst then 429", func(t *testing.T) {
		s := limited("strict", 60, 10, false) // strict: 30/min, burst 5
		before := time.Now().Unix()
		for i := range 5 {
			rec := s.get(t, "/api/v1/test/whoami")
			if rec.Code != 200 {
				t.Fatalf("request %d: %d", i+1, rec.Code)
			}
			h := rec.Header()
			if h.Get("X-RateLimit-Limit") != "30" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(4-i) {
				t.Fatalf("request %d: limit %q remaining %q", i+1, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"))
			}
			reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
			if reset < before || reset > before+11 { // 5 tokens at one per 2 s
				t.Errorf("X-RateLimit-Reset %d, now %d", reset, before)
			}
		}
		rec := s.get(t, "/api/v1/test/whoami")
		if rec.Code != 429 {
			t.Fatalf("6th request: %d", rec.Code)
		}
		env := envelope(t, rec)
		if env.Error.Type != "RateLimitError" || env.Error.Code != "RATE_LIMIT" {
			t.Errorf("envelope %+v", env.Error)
		}
		if ra := rec.Header().Get("Retry-After"); ra != "2" {
			t.Errorf("Retry-After %q, want 2 (one token per 2 s)", ra)
		}
		if rec.Header().Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("remaining %q", rec.Header().Get("X-RateLimit-Remaining"))
		}
		if env.Error.Details["retry_after_seconds"] != float64(2) {
			t.Errorf("details %v", env.Error.Details)
		}
		// Probes are not limited.
		for range 3 {
			if rec := s.get(t, "/health"); rec.Code != 200 || rec.Header().Get("X-RateLimit-Limit") != "" {
				t.Fatalf("/health: %d %v", rec.Code, rec.Header())
			}
		}
	})
	t.Run("per client IP", func(t *testing.T) {
		s := limited("default", 60, 2, false)
		a, b := "203.0.113.1:1000", "203.0.113.2:1000"
		for range 2 {
			s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: a})
		}
		if rec := s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: a}); rec.Code != 429 {
			t.Fatalf("a's 3rd: %d", rec.Code)
		}
		if rec := s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: b}); rec.Code != 200 {
			t.Fatalf("b's 1st: %d", rec.Code)
		}
		// X-Forwarded-For is not trusted without TrustedProxies.
		if rec := s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: a, header: map[string]string{"X-Forwarded-For": "198.51.100.9"}}); rec.Code != 429 {
			t.Fatalf("a behind a forged X-Forwarded-For: %d", rec.Code)
		}
	})
	t.Run("per API key", func(t *testing.T) {
		s := limited("default", 60, 2, true)
		ip := "203.0.113.5:1"
		for range 2 {
			s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: ip, header: bearer("viewer-secret")})
		}
		if rec := s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: ip, header: bearer("viewer-secret")}); rec.Code != 429 {
			t.Fatalf("viewer's 3rd: %d", rec.Code)
		}
		// Another key from the same IP has its own bucket.
		if rec := s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: ip, header: bearer("admin-secret")}); rec.Code != 200 {
			t.Fatalf("admin's 1st: %d", rec.Code)
		}
		// Wrong keys share their IP's bucket: they cannot open new ones.
		other := "203.0.113.6:1"
		for i := range 2 {
			if rec := s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: other, header: bearer("guess-" + strconv.Itoa(i))}); rec.Code != 401 {
				t.Fatalf("guess %d: %d", i, rec.Code)
			}
		}
		if rec := s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: other, header: bearer("guess-3")}); rec.Code != 429 {
			t.Fatalf("3rd guess from one IP: %d", rec.Code)
		}
	})
	t.Run("profiles", func(t *testing.T) {
		tests := []struct {
			profile          string
			rpm, burst       int
			wantLimit, wantN int
		}{
			{"default", 60, 10, 60, 10},
			{"permissive", 60, 10, 1000, 100},
			{"strict", 60, 10, 30, 5},
			{"strict", 120, 10, 120, 5}, // an explicit rate overrides the profile's
			{"default", 90, 3, 90, 3},
		}
		for _, tt := range tests {
			s := limited(tt.profile, tt.rpm, tt.burst, false)
			// The first request finds a full bucket: burst-1 left.
			rec := s.get(t, "/api/v1/test/whoami")
			h := rec.Header()
			if rec.Code != 200 || h.Get("X-RateLimit-Limit") != strconv.Itoa(tt.wantLimit) ||
				h.Get("X-RateLimit-Remaining") != strconv.Itoa(tt.wantN-1) {
				t.Errorf("%s %d/%d: %d limit %s remaining %s, want limit %d remaining %d", tt.profile, tt.rpm, tt.burst,
					rec.Code, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), tt.wantLimit, tt.wantN-1)
			}
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		cfg := testConfig()
		cfg.RateLimit = config.RateLimitConfig{Enabled: true, Profile: "default", RequestsPerMinute: 60, BurstSize: 1}
		cfg.TrustedProxies = []string{"10.0.0.0/8"}
		s := newServer(t, cfg, depsNone())
		mountTestRoutes(s)
		proxy := "10.1.2.3:5000"
		for _, client := range []string{"198.51.100.1", "198.51.100.2"} {
			rec := s.do(t, request{path: "/api/v1/test/whoami", remoteAddr: proxy, header: map[string]string{"X-Forwarded-For": client}})
			if rec.Code != 200 {
				t.Fatalf("client %s via the proxy: %d", client, rec.Code)
			}
		}
	})
}
