package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api"
	"github.com/ratchet-go/ratchet/lib/server/health"
	"github.com/ratchet-go/ratchet/lib/server/metrics"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
)

var _ middleware.HTTPObserver = (*metrics.Metrics)(nil)

// Server is Ratchet's HTTP server. Mount more routes through Echo and API
// before Start; Stop shuts it down gracefully.
type Server struct {
	cfg     Config
	deps    Deps
	logger  *slog.Logger
	echo    *echo.Echo
	api     *echo.Group
	metrics *metrics.Metrics
	health  *health.Health
	auth    *middleware.Auth
	limiter *middleware.RateLimiter
	errors  *errorRing

	mu       sync.Mutex
	state    int // stateNew, stateStarted, stateStopped
	http     *http.Server
	addr     net.Addr
	served   chan struct{}
	serveErr error
}

const (
	stateNew = iota
	stateStarted
	stateStopped
)

// New builds the server: the middleware, the error handler, the JSON
// decoder and the routes of this package (health, readiness, version,
// metrics, OpenAPI, reference page, and the debug endpoints when
// enabled). It refuses a non-loopback bind address without
// authentication (CheckExposure).
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Logger == nil {
		return nil, errors.New("server: Deps.Logger is nil: pass the application's *slog.Logger (slog.New(slog.DiscardHandler) to log nothing)")
	}
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, deps: deps, logger: deps.Logger, metrics: deps.Metrics, errors: newErrorRing(cfg.ErrorBufferSize)}
	if s.metrics == nil {
		s.metrics = metrics.New(metrics.Options{Version: cfg.Version, Commit: cfg.Commit})
	}
	if deps.QueueDepth != nil {
		s.metrics.SetQueueDepthFunc(deps.QueueDepth)
	}
	if deps.Workers != nil {
		s.metrics.SetWorkersFunc(deps.Workers)
	}
	var err error
	s.health, err = health.New(health.Options{Version: cfg.Version, Node: cfg.Node, Checkers: deps.Checkers, QueueDepth: deps.QueueDepth})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.auth, err = middleware.NewAuth(middleware.AuthConfig{
		Enabled: cfg.Auth.Enabled, StaticKeys: cfg.Auth.APIKeys, Store: deps.KeyStore, Logger: s.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if cfg.Auth.Enabled && !s.auth.HasKeys() {
		s.logger.Warn("authentication is on but no API key is configured and no key store is given: every non-public request will get 401")
	}
	if cfg.RateLimit.Enabled {
		prof, _ := middleware.EffectiveRateLimit(cfg.RateLimit) // validated
		s.limiter, err = middleware.NewRateLimiter(middleware.RateLimitConfig{
			RateProfile: prof,
			Skipper:     func(c echo.Context) bool { return isProbe(c.Path()) },
		})
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	s.echo = s.newEcho()
	s.api = s.echo.Group(api.V1Prefix)
	s.routes()
	return s, nil
}

// probeRoutes are the probes and scrapes: not rate-limited, logged at
// debug level.
var probeRoutes = []string{"/health", "/health/detailed", "/ready", "/metrics"}

func isProbe(route string) bool {
	for _, r := range probeRoutes {
		if r == route {
			return true
		}
	}
	return false
}

func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard) // Ratchet logs through slog only
	e.HTTPErrorHandler = s.handleError
	e.JSONSerializer = jsonSerializer{maxDepth: s.cfg.MaxJSONDepth}
	e.Binder = &binder{}
	e.IPExtractor = s.ipExtractor()

	mws := []echo.MiddlewareFunc{
		middleware.RequestID(),
		middleware.Observe(middleware.ObserveConfig{Logger: s.logger, Metrics: s.metrics, QuietRoutes: probeRoutes}),
		middleware.Recover(s.logger),
		middleware.CORS(s.cfg.CORS),
		middleware.BodyLimit(s.cfg.BodyLimit),
		s.auth.Authenticate(),
	}
	if s.limiter != nil {
		mws = append(mws, s.limiter.Middleware())
	}
	mws = append(mws, s.auth.Authorize())
	for _, m := range mws {
		if m != nil {
			e.Use(m)
		}
	}
	return e
}

// headAsGet answers HEAD on every GET route (monitors probe /health with
// HEAD): the router sees a GET, and the body written is dropped.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		get := r.Clone(r.Context())
		get.Method = http.MethodGet
		next.ServeHTTP(bodiless{w}, get)
	})
}

// bodiless is a ResponseWriter that keeps the status and headers and
// drops the body.
type bodiless struct{ http.ResponseWriter }

func (b bodiless) Write(p []byte) (int, error) { return len(p), nil }

func (s *Server) ipExtractor() echo.IPExtractor {
	if len(s.cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range s.cfg.TrustedProxies {
		prefix, _ := parsePrefix(p) // validated
		_, ipNet, _ := net.ParseCIDR(prefix.String())
		opts = append(opts, echo.TrustIPRange(ipNet))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// Echo is the Echo instance, to mount routes outside /api/v1 (GraphQL,
// the playground). Mount before Start.
func (s *Server) Echo() *echo.Echo { return s.echo }

// API is the /api/v1 group, to mount the REST resource handlers. Mount
// before Start.
func (s *Server) API() *echo.Group { return s.api }

// Metrics is the metrics registry served at /metrics, for the
// composition root to feed (jobs, executions, deliveries).
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// SetReady says whether the server accepts work (GET /ready answers 200
// or 503); reason explains a "not ready". A new server is not ready; Stop
// makes it not ready ("shutting down").
func (s *Server) SetReady(ready bool, reason string) { s.health.SetReady(ready, reason) }

// Handler is the server as an http.Handler, for tests (httptest) and
// embedding.
func (s *Server) Handler() http.Handler { return headAsGet(s.echo) }

// CheckRoutes compares the routes served with the OpenAPI document
// (api.CompareRoutes): undocumented are served but not documented,
// missing are documented but not served.
func (s *Server) CheckRoutes() (undocumented, missing []string) {
	var served []api.ServedRoute
	for _, r := range s.echo.Routes() {
		served = append(served, api.ServedRoute{Method: r.Method, Path: r.Path})
	}
	return api.CompareRoutes(served)
}

// Start listens on BindAddress:Port and serves in the background; it
// returns once the listener is open (an address in use is its error) and
// logs the URLs. Stop ends it.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateStarted:
		return errors.New("server: already started")
	case stateStopped:
		return errors.New("server: stopped; make a new one")
	}
	// Checked again here: the bind address may come from --bind.
	if err := CheckExposure(s.cfg.BindAddress, s.cfg.Auth); err != nil {
		return err
	}
	addr := net.JoinHostPort(s.cfg.BindAddress, strconv.Itoa(s.cfg.Port))
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listening on %s: %w", addr, err)
	}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	s.addr = ln.Addr()
	s.served = make(chan struct{})
	s.state = stateStarted
	srv, done := s.http, s.served
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("HTTP server failed", slog.String("error", err.Error()))
			s.mu.Lock()
			s.serveErr = err
			s.mu.Unlock()
		}
	}()
	base := "http://" + urlHost(s.cfg.BindAddress, s.addr)
	s.logger.InfoContext(ctx, "HTTP server listening",
		slog.String("url", base), slog.String("bind_address", s.addr.String()),
		slog.String("api", base+api.V1Prefix), slog.String("docs", base+api.V1Prefix+"/docs"),
		slog.String("openapi", base+api.V1Prefix+"/openapi.json"), slog.String("health", base+"/health"),
		slog.Bool("auth", s.cfg.Auth.Enabled), slog.Bool("debug_endpoints", s.cfg.EnableDebugEndpoints))
	return nil
}

// urlHost is host:port for URLs: localhost for an address that listens on
// every interface.
func urlHost(bind string, addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); bind == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// Addr is the address the server listens on (nil before Start).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the base URL of the running server ("" before Start).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == nil {
		return ""
	}
	return "http://" + urlHost(s.cfg.BindAddress, s.addr)
}

// Stop stops accepting connections, marks the server not ready and waits
// for the requests in flight until ctx ends; then it closes the remaining
// connections. It is idempotent and safe before Start.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateStarted {
		s.state = stateStopped
		s.mu.Unlock()
		return nil
	}
	s.state = stateStopped
	srv, done := s.http, s.served
	s.mu.Unlock()

	s.health.SetReady(false, "shutting down")
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("server: graceful shutdown: %w", err), srv.Close())
	}
	<-done
	s.auth.Wait() // recordings of API keys' last use still in flight
	s.mu.Lock()
	serveErr := s.serveErr
	s.mu.Unlock()
	s.logger.Info("HTTP server stopped")
	return errors.Join(err, serveErr)
}
