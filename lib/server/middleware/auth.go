package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/apikey"
)

// HeaderAPIKey is the alternative to Authorization: Bearer.
const HeaderAPIKey = "X-API-Key"

// Key is an API key found in a KeyStore.
type Key struct {
	ID   int64
	Name string
	// Role is the stored role name (admin, operator, viewer).
	Role string
	// Revoked keys are refused.
	Revoked bool
}

// KeyStore finds stored API keys by hash (apikey.Hash of the secret).
// LookupKey returns an error matching core.ErrNotFound for an unknown
// hash; any other error fails the request with 503.
type KeyStore interface {
	LookupKey(ctx context.Context, hash string) (Key, error)
}

// KeyToucher is implemented by a KeyStore that records when a stored key
// was last used (shown by `ratchet apikey list`).
type KeyToucher interface {
	TouchKey(ctx context.Context, id int64, at time.Time) error
}

// DefaultTouchInterval is how often at most the last use of one key is
// recorded.
const DefaultTouchInterval = time.Minute

// touchTimeout bounds one recording of a key's last use.
const touchTimeout = 5 * time.Second

// PublicRoutes need no API key, whatever the configuration: the probes
// and scrapes (Kubernetes, Prometheus), the version, the OpenAPI
// document and reference page (marked public in the document too, which
// a test checks), and the GraphQL playground page (a static page; the
// queries it sends to /graphql carry the key).
var PublicRoutes = []string{
	"/health", "/health/detailed", "/ready", "/version", "/metrics",
	"/api/v1/openapi.json", "/api/v1/openapi.yaml", "/api/v1/docs",
	"/playground", "/playground/*",
}

// AdminPrefixes are the route prefixes only admins may use: API-key
// management and the debug endpoints.
var AdminPrefixes = []string{"/debug/", "/api/v1/apikeys", "/api/v1/admin"}

// IsPublic reports whether route (a route template, such as c.Path())
// needs no key.
func IsPublic(route string) bool { return slices.Contains(PublicRoutes, route) }

// RequiredRole is the role a request needs: admin under AdminPrefixes,
// viewer for reading methods (GET, HEAD, OPTIONS) and for /graphql (its
// mutation resolvers require operator themselves, since a POST may be a
// query), operator otherwise.
func RequiredRole(method, route string) apikey.Role {
	if route == "/graphql" {
		return apikey.RoleViewer
	}
	for _, p := range AdminPrefixes {
		if strings.HasPrefix(route, p) || route == strings.TrimSuffix(p, "/") {
			return apikey.RoleAdmin
		}
	}
	if apikey.ReadOnlyMethod(method) {
		return apikey.RoleViewer
	}
	return apikey.RoleOperator
}

// AuthConfig configures NewAuth.
type AuthConfig struct {
	// Enabled turns authentication on; when off every request is
	// apikey.Anonymous (an admin).
	Enabled bool
	// StaticKeys are the keys of server.auth.api_keys.
	StaticKeys []config.APIKey
	// Store holds the keys created with `ratchet apikey create` (nil: no
	// stored keys).
	Store KeyStore
	// Public reports whether a route needs no key (default IsPublic).
	Public func(route string) bool
	// RequiredRole is the role a request needs (default RequiredRole).
	RequiredRole func(method, route string) apikey.Role
	// Logger reports stored keys with an unknown role.
	Logger *slog.Logger
	// TouchInterval is how often at most the last use of a stored key is
	// recorded, when Store is a KeyToucher (default DefaultTouchInterval).
	TouchInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Auth authenticates API keys (Authorization: Bearer KEY or X-API-Key:
// KEY), from the configuration and from a KeyStore, and authorises the
// request by role. Use Authenticate and Authorize, in that order, with
// the rate limiter between them.
type Auth struct {
	cfg    AuthConfig
	static map[string]apikey.Principal // by hash

	mu      sync.Mutex
	touched map[int64]time.Time // key id -> when its last use was last recorded
	touches sync.WaitGroup
}

// NewAuth checks the static keys: each must have a key and a valid role
// ("" is operator).
func NewAuth(cfg AuthConfig) (*Auth, error) {
	if cfg.Public == nil {
		cfg.Public = IsPublic
	}
	if cfg.RequiredRole == nil {
		cfg.RequiredRole = RequiredRole
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TouchInterval <= 0 {
		cfg.TouchInterval = DefaultTouchInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Auth{cfg: cfg, static: map[string]apikey.Principal{}, touched: map[int64]time.Time{}}
	for i, k := range cfg.StaticKeys {
		role, ok := apikey.ParseRole(k.Role)
		if !ok {
			return nil, fmt.Errorf("server.auth.api_keys[%d].role: %q must be admin, operator or viewer", i, k.Role)
		}
		if strings.TrimSpace(k.Key) == "" {
			return nil, fmt.Errorf("server.auth.api_keys[%d].key: must not be empty", i)
		}
		a.static[apikey.Hash(k.Key)] = apikey.Principal{Name: k.Name, Role: role, Source: apikey.SourceConfig}
	}
	return a, nil
}

// HasKeys reports whether any key can authenticate (static keys or a
// store).
func (a *Auth) HasKeys() bool { return len(a.static) > 0 || a.cfg.Store != nil }

const contextKeyAuthErr = "ratchet.auth_error"

// Authenticate identifies the caller. On success the principal is in the
// request's context (apikey.PrincipalFrom); on a missing or wrong key
// the failure is kept for Authorize, so that the rate limiter in between
// counts the request against the client IP. Public routes are not
// authenticated. With authentication off, everyone is apikey.Anonymous.
func (a *Auth) Authenticate() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			var p apikey.Principal
			switch {
			case !a.cfg.Enabled:
				p = apikey.Anonymous
			case a.cfg.Public(c.Path()):
				return next(c)
			default:
				var err error
				p, err = a.identify(req.Context(), req.Header.Get("Authorization"), headerOrQueryKey(req))
				if err != nil {
					c.Set(contextKeyAuthErr, err)
					return next(c)
				}
			}
			c.SetRequest(req.WithContext(apikey.WithPrincipal(req.Context(), p)))
			return next(c)
		}
	}
}

// QueryAPIKey is the query parameter that carries the API key of a
// WebSocket upgrade (GraphQL subscriptions): browsers cannot set headers
// on a WebSocket. It is accepted on upgrades only, and the access log
// records paths without queries.
const QueryAPIKey = "api_key"

// headerOrQueryKey is the X-API-Key header, or for a WebSocket upgrade
// without any key header, the api_key query parameter.
func headerOrQueryKey(req *http.Request) string {
	if k := req.Header.Get(HeaderAPIKey); k != "" || req.Header.Get("Authorization") != "" {
		return k
	}
	if !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		return ""
	}
	return req.URL.Query().Get(QueryAPIKey)
}

// Authorize answers 401 for a request Authenticate refused and 403 for a
// principal whose role is not enough for the route.
func (a *Auth) Authorize() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err, ok := c.Get(contextKeyAuthErr).(error); ok {
				if core.KindOf(err) == core.KindUnauthorized {
					c.Response().Header().Set("WWW-Authenticate", `Bearer realm="ratchet"`)
				}
				return err
			}
			if !a.cfg.Enabled || a.cfg.Public(c.Path()) {
				return next(c)
			}
			p, ok := apikey.PrincipalFrom(c.Request().Context())
			if !ok { // Authenticate did not run: fail closed.
				return core.Errorf(core.KindUnauthorized, "authentication required")
			}
			need := a.cfg.RequiredRole(c.Request().Method, routeOrPath(c))
			if !p.Role.Allows(need) {
				return core.Errorf(core.KindAuthorization, "API key %q has role %s; %s %s needs %s",
					p.Name, p.Role, c.Request().Method, c.Request().URL.Path, need).
					WithDetail("role", string(p.Role)).WithDetail("required_role", string(need))
			}
			return next(c)
		}
	}
}

func routeOrPath(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return c.Request().URL.Path
}

// identify finds the principal of the presented key.
func (a *Auth) identify(ctx context.Context, authorization, xAPIKey string) (apikey.Principal, error) {
	secret := strings.TrimSpace(xAPIKey)
	if authorization != "" {
		scheme, token, _ := strings.Cut(strings.TrimSpace(authorization), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return apikey.Principal{}, core.Errorf(core.KindUnauthorized,
				"unsupported Authorization scheme %q: send Authorization: Bearer <API key>", scheme)
		}
		secret = strings.TrimSpace(token)
	}
	if secret == "" {
		return apikey.Principal{}, core.Errorf(core.KindUnauthorized,
			"missing API key: send Authorization: Bearer <API key> or X-API-Key: <API key>")
	}
	hash := apikey.Hash(secret)
	if p, ok := a.static[hash]; ok {
		return p, nil
	}
	invalid := core.Errorf(core.KindUnauthorized, "invalid API key")
	if a.cfg.Store == nil {
		return apikey.Principal{}, invalid
	}
	k, err := a.cfg.Store.LookupKey(ctx, hash)
	switch {
	case errors.Is(err, core.ErrNotFound):
		return apikey.Principal{}, invalid
	case err != nil:
		// The cause (a database error) is logged by the error handler, never shown.
		return apikey.Principal{}, &core.Error{Kind: core.KindServiceUnavailable, Message: "checking the API key failed; try again", Err: err}
	case k.Revoked:
		return apikey.Principal{}, core.Errorf(core.KindUnauthorized, "API key %q has been revoked", k.Name)
	}
	role, ok := apikey.ParseRole(k.Role)
	if !ok || k.Role == "" {
		a.cfg.Logger.WarnContext(ctx, "stored API key has an unknown role: refused",
			slog.Int64("key_id", k.ID), slog.String("role", k.Role))
		return apikey.Principal{}, core.Errorf(core.KindAuthorization, "API key %q has no valid role", k.Name)
	}
	a.touch(ctx, k.ID)
	return apikey.Principal{Name: k.Name, Role: role, KeyID: k.ID, Source: apikey.SourceDatabase}, nil
}

// touch records the use of stored key id, at most once per TouchInterval,
// in the background: a slow or failing database never delays or fails
// the request.
func (a *Auth) touch(ctx context.Context, id int64) {
	toucher, ok := a.cfg.Store.(KeyToucher)
	if !ok {
		return
	}
	now := a.cfg.Now()
	a.mu.Lock()
	if last, ok := a.touched[id]; ok && now.Sub(last) < a.cfg.TouchInterval {
		a.mu.Unlock()
		return
	}
	a.touched[id] = now
	a.mu.Unlock()
	a.touches.Add(1)
	go func() {
		defer a.touches.Done()
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), touchTimeout)
		defer cancel()
		if err := toucher.TouchKey(tctx, id, now); err != nil {
			a.cfg.Logger.WarnContext(tctx, "recording the last use of an API key failed",
				slog.Int64("key_id", id), slog.String("error", err.Error()))
		}
	}()
}

// Wait waits for the last-use recordings in flight (for shutdown and
// tests).
func (a *Auth) Wait() { a.touches.Wait() }
