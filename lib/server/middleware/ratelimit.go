package middleware

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/apikey"
)

// Rate-limit headers.
const (
	// HeaderRateLimitLimit is the requests allowed per minute.
	HeaderRateLimitLimit = "X-RateLimit-Limit"
	// HeaderRateLimitRemaining is the requests that may be sent at once
	// (the whole tokens left in the client's bucket).
	HeaderRateLimitRemaining = "X-RateLimit-Remaining"
	// HeaderRateLimitReset is the Unix time at which the bucket is full
	// again.
	HeaderRateLimitReset = "X-RateLimit-Reset"
	// HeaderRetryAfter is the seconds to wait after a 429.
	HeaderRetryAfter = "Retry-After"
)

// RateProfile is a token bucket's size and refill rate.
type RateProfile struct {
	RequestsPerMinute int
	Burst             int
}

// RateProfiles are the named profiles of server.rate_limit.profile.
var RateProfiles = map[string]RateProfile{
	config.RateLimitProfileDefault:    {RequestsPerMinute: 60, Burst: 10},
	config.RateLimitProfilePermissive: {RequestsPerMinute: 1000, Burst: 100},
	config.RateLimitProfileStrict:     {RequestsPerMinute: 30, Burst: 5},
}

// EffectiveRateLimit resolves server.rate_limit into one bucket shape.
//
// Precedence: the profile gives the baseline, and requests_per_minute and
// burst_size override it each on its own when they differ from the
// default profile's values (60 and 10). A loaded configuration always
// holds both numbers (the defaults fill them in), so a value equal to the
// default is read as "not set": with profile strict and
// requests_per_minute 120 the bucket is 120/min with strict's burst of 5;
// with profile strict alone it is 30/min, burst 5; with profile default,
// the two numbers are used as they are. An empty profile is "default".
func EffectiveRateLimit(c config.RateLimitConfig) (RateProfile, error) {
	name := c.Profile
	if name == "" {
		name = config.RateLimitProfileDefault
	}
	p, ok := RateProfiles[name]
	if !ok {
		return RateProfile{}, fmt.Errorf("server.rate_limit.profile: unknown profile %q (default, permissive or strict)", c.Profile)
	}
	def := RateProfiles[config.RateLimitProfileDefault]
	if c.RequestsPerMinute > 0 && c.RequestsPerMinute != def.RequestsPerMinute {
		p.RequestsPerMinute = c.RequestsPerMinute
	}
	if c.BurstSize > 0 && c.BurstSize != def.Burst {
		p.Burst = c.BurstSize
	}
	if name == config.RateLimitProfileDefault {
		// The numbers as given (0 keeps the profile's).
		if c.RequestsPerMinute > 0 {
			p.RequestsPerMinute = c.RequestsPerMinute
		}
		if c.BurstSize > 0 {
			p.Burst = c.BurstSize
		}
	}
	return p, nil
}

// Defaults of RateLimitConfig.
const (
	DefaultMaxClients = 100_000
	minIdleTTL        = time.Minute
)

// RateLimitConfig configures NewRateLimiter.
type RateLimitConfig struct {
	RateProfile
	// KeyFunc names the bucket of a request. Default: one bucket per
	// authenticated API key (apikey.Principal.RateKey), else per client
	// IP (echo's RealIP, as the server's IP extractor sees it).
	KeyFunc func(c echo.Context) string
	// Skipper exempts requests (no bucket, no headers).
	Skipper func(c echo.Context) bool
	// IdleTTL is how long an unused bucket is kept. Default: the time it
	// takes to refill a bucket plus a minute; a bucket idle that long is
	// full, so dropping it changes nothing for its client.
	IdleTTL time.Duration
	// MaxClients bounds the buckets kept (default DefaultMaxClients).
	// Past it, idle buckets are dropped first, then arbitrary ones (their
	// clients start again with a full bucket).
	MaxClients int
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// RateLimiter is a token bucket per client (golang.org/x/time/rate),
// with the buckets held in a bounded map swept as requests come (no
// goroutine).
type RateLimiter struct {
	cfg   RateLimitConfig
	limit rate.Limit

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time // guarded by RateLimiter.mu
}

// NewRateLimiter makes a limiter; the profile's numbers must be positive.
func NewRateLimiter(cfg RateLimitConfig) (*RateLimiter, error) {
	if cfg.RequestsPerMinute <= 0 || cfg.Burst <= 0 {
		return nil, fmt.Errorf("rate limit: requests per minute (%d) and burst (%d) must be positive", cfg.RequestsPerMinute, cfg.Burst)
	}
	if cfg.KeyFunc == nil {
		cfg.KeyFunc = DefaultRateKey
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	limit := rate.Limit(float64(cfg.RequestsPerMinute) / 60)
	if cfg.IdleTTL <= 0 {
		refill := time.Duration(float64(cfg.Burst) / float64(limit) * float64(time.Second))
		cfg.IdleTTL = refill + minIdleTTL
	}
	return &RateLimiter{cfg: cfg, limit: limit, buckets: map[string]*bucket{}, lastSweep: cfg.Now()}, nil
}

// DefaultRateKey is the bucket of a request: its API key's, or its client
// IP's.
func DefaultRateKey(c echo.Context) string {
	if p, ok := apikey.PrincipalFrom(c.Request().Context()); ok {
		if k := p.RateKey(); k != "" {
			return k
		}
	}
	return "ip:" + c.RealIP()
}

// Decision is the outcome of one Allow.
type Decision struct {
	Allowed bool
	// Limit is the requests per minute; Remaining the whole tokens left.
	Limit, Remaining int
	// Reset is when the bucket is full again.
	Reset time.Time
	// RetryAfter is the wait before the next request may pass (0 when
	// Allowed).
	RetryAfter time.Duration
}

// Allow takes a token from key's bucket.
func (l *RateLimiter) Allow(key string) Decision {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		l.makeRoom(now)
		b = &bucket{lim: rate.NewLimiter(l.limit, l.cfg.Burst)}
		l.buckets[key] = b
	}
	b.last = now
	allowed := b.lim.AllowN(now, 1)
	tokens := b.lim.TokensAt(now)
	perSec := float64(l.limit)
	d := Decision{
		Allowed: allowed, Limit: l.cfg.RequestsPerMinute, Remaining: max(0, int(math.Floor(tokens))),
		Reset: now.Add(time.Duration((float64(l.cfg.Burst) - tokens) / perSec * float64(time.Second))),
	}
	if !allowed {
		d.RetryAfter = time.Duration((1 - tokens) / perSec * float64(time.Second))
	}
	return d
}

// makeRoom sweeps idle buckets once per IdleTTL, and makes room under
// MaxClients. l.mu is held.
func (l *RateLimiter) makeRoom(now time.Time) {
	if now.Sub(l.lastSweep) >= l.cfg.IdleTTL || len(l.buckets) >= l.cfg.MaxClients {
		l.lastSweep = now
		for k, b := range l.buckets {
			if now.Sub(b.last) >= l.cfg.IdleTTL {
				delete(l.buckets, k)
			}
		}
	}
	if len(l.buckets) >= l.cfg.MaxClients {
		// Still full of active clients: drop an arbitrary eighth.
		target := l.cfg.MaxClients - max(1, l.cfg.MaxClients/8)
		for k := range l.buckets {
			if len(l.buckets) <= target {
				break
			}
			delete(l.buckets, k)
		}
	}
}

// Clients is the number of buckets held.
func (l *RateLimiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Middleware limits each request: X-RateLimit-Limit, -Remaining and
// -Reset on every response it does not skip, and a 429 RateLimitError
// with Retry-After (whole seconds, at least 1) when the bucket is empty.
func (l *RateLimiter) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if l.cfg.Skipper != nil && l.cfg.Skipper(c) {
				return next(c)
			}
			d := l.Allow(l.cfg.KeyFunc(c))
			h := c.Response().Header()
			h.Set(HeaderRateLimitLimit, strconv.Itoa(d.Limit))
			h.Set(HeaderRateLimitRemaining, strconv.Itoa(d.Remaining))
			h.Set(HeaderRateLimitReset, strconv.FormatInt(d.Reset.Unix(), 10))
			if !d.Allowed {
				secs := max(1, int(math.Ceil(d.RetryAfter.Seconds())))
				h.Set(HeaderRetryAfter, strconv.Itoa(secs))
				return core.Errorf(core.KindRateLimit, "rate limit exceeded (%d requests per minute, bursts of %d): retry in %d s",
					l.cfg.RequestsPerMinute, l.cfg.Burst, secs).
					WithDetail("retry_after_seconds", secs).WithDetail("limit_per_minute", l.cfg.RequestsPerMinute)
			}
			return next(c)
		}
	}
}
