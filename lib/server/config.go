package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/health"
	"github.com/ratchet-go/ratchet/lib/server/metrics"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
)

// Defaults of Config.
const (
	DefaultMaxJSONDepth      = 64
	DefaultErrorBufferSize   = 100
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
)

// Config configures the server. ConfigFrom fills it from the global
// configuration; zero values get the defaults.
type Config struct {
	// BindAddress and Port are where Start listens. Port 0 picks a free
	// port (tests); Addr tells which.
	BindAddress string
	Port        int

	RateLimit config.RateLimitConfig
	CORS      config.CORSConfig
	Auth      config.AuthConfig

	// EnableDebugEndpoints mounts /debug/... (config, workers, queue,
	// errors, pprof), for admins only when authentication is on.
	EnableDebugEndpoints bool

	// BodyLimit bounds request bodies in bytes (default
	// middleware.DefaultBodyLimit, 10 MiB).
	BodyLimit int64
	// MaxJSONDepth bounds the nesting of JSON bodies (default 64).
	MaxJSONDepth int

	// Version, Commit and BuildDate are served by /version; Node names
	// this server in /health/detailed.
	Version, Commit, BuildDate, Node string

	// TrustedProxies are the CIDRs (or addresses) of reverse proxies whose
	// X-Forwarded-For gives the client IP (for rate limiting and logs).
	// Empty: the peer address is the client IP and X-Forwarded-For is
	// ignored.
	TrustedProxies []string

	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// ErrorBufferSize is how many error envelopes /debug/errors keeps.
	ErrorBufferSize int
}

// ConfigFrom takes the server's settings from the global configuration.
// Version, Commit, BuildDate and Node are the caller's to fill in.
func ConfigFrom(c *config.Config) Config {
	return Config{
		BindAddress:          c.Server.BindAddress,
		Port:                 c.Server.Port,
		RateLimit:            c.Server.RateLimit,
		CORS:                 c.Server.CORS,
		Auth:                 c.Server.Auth,
		EnableDebugEndpoints: c.Development.EnableDebugEndpoints,
		// Room for the largest task input with the request around it.
		BodyLimit: max(middleware.DefaultBodyLimit, int64(c.Execution.MaxInputBytes)+1<<20),
	}
}

func (c *Config) setDefaults() {
	if c.BodyLimit <= 0 {
		c.BodyLimit = middleware.DefaultBodyLimit
	}
	if c.MaxJSONDepth <= 0 {
		c.MaxJSONDepth = DefaultMaxJSONDepth
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ErrorBufferSize <= 0 {
		c.ErrorBufferSize = DefaultErrorBufferSize
	}
}

func (c *Config) validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("server: port %d must be between 0 and 65535", c.Port)
	}
	if err := CheckExposure(c.BindAddress, c.Auth); err != nil {
		return err
	}
	if c.RateLimit.Enabled {
		if _, err := middleware.EffectiveRateLimit(c.RateLimit); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	for _, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			return fmt.Errorf("server: trusted proxy %q: must be an IP address or a CIDR", p)
		}
	}
	return nil
}

// ErrUnauthenticatedExposure is the error of CheckExposure.
var ErrUnauthenticatedExposure = errors.New("refusing to serve without authentication on a non-loopback address")

// CheckExposure refuses a non-loopback bind address (an empty one means
// every interface) while authentication is off, unless
// server.auth.allow_unauthenticated says so (SPEC §6). The configuration
// validates this too; the server checks again because --bind overrides
// the address after validation.
func CheckExposure(bind string, auth config.AuthConfig) error {
	if auth.Enabled || auth.AllowUnauthenticated || IsLoopback(bind) {
		return nil
	}
	return fmt.Errorf("server: %w %q: set server.auth.enabled: true (with API keys), bind 127.0.0.1, "+
		"or set server.auth.allow_unauthenticated: true to accept the risk", ErrUnauthenticatedExposure, bind)
}

// IsLoopback reports whether a bind address only accepts local
// connections: localhost or a loopback IP.
func IsLoopback(host string) bool {
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Deps are the server's collaborators. Logger is required; the rest are
// optional.
type Deps struct {
	Logger *slog.Logger
	// Metrics receives the HTTP metrics and is served at /metrics (nil: a
	// new one, see Server.Metrics).
	Metrics *metrics.Metrics
	// KeyStore holds the API keys created with `ratchet apikey create`.
	KeyStore middleware.KeyStore
	// Checkers make /health/detailed (database, workers, scheduler,
	// queue).
	Checkers []health.Checker
	// QueueDepth counts the jobs waiting to run, for /health/detailed and
	// ratchet_queue_depth.
	QueueDepth func(ctx context.Context) (int64, error)
	// Workers lists the workers of the pool, for /debug/workers and
	// ratchet_workers.
	Workers func(ctx context.Context) ([]core.Worker, error)
	// Queue describes the queue for /debug/queue (any JSON value).
	Queue func(ctx context.Context) (any, error)
	// AppConfig is rendered, redacted, at /debug/config.
	AppConfig *config.Config
}
