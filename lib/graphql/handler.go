package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	gql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	graphqlws "github.com/graph-gophers/graphql-transport-ws"
	"github.com/labstack/echo/v4"

	apigraphql "github.com/ratchet-go/ratchet/api/graphql"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/core/logging"
	"github.com/ratchet-go/ratchet/lib/server/apikey"
	"github.com/ratchet-go/ratchet/lib/service"
)

// Paths the handler is mounted at by Register.
const (
	Path           = "/graphql"
	PlaygroundPath = "/playground"
)

// Defaults of Options.
const (
	// DefaultMaxDepth leaves room for the introspection query GraphiQL
	// sends on load (its TypeRef fragment nests ofType deeply), which a
	// tighter bound would refuse.
	DefaultMaxDepth       = 20
	DefaultMaxComplexity  = 10000
	DefaultMaxParallelism = 10
	DefaultMaxSelections  = 2000
	DefaultMaxQueryLength = 64 << 10
	// DefaultMaxSubscriptions bounds the subscriptions of one WebSocket.
	DefaultMaxSubscriptions = 20
)

// Options configure the GraphQL handler. The zero value is usable: every
// limit takes its default and introspection is on.
type Options struct {
	Logger *slog.Logger
	// DisableIntrospection refuses __schema and __type queries (the
	// playground then has no documentation or completion).
	DisableIntrospection bool
	// MaxDepth bounds the nesting of fields (default DefaultMaxDepth).
	MaxDepth int
	// MaxComplexity bounds the work of one operation: each list resolved
	// charges its page size (limit), each lookup 1 (default
	// DefaultMaxComplexity).
	MaxComplexity int
	// MaxParallelism bounds the resolvers of one operation running at once
	// (default DefaultMaxParallelism).
	MaxParallelism int
	// MaxSelections bounds the fields of an operation after fragments are
	// expanded (default DefaultMaxSelections).
	MaxSelections int
	// MaxQueryLength bounds the query text in bytes (default
	// DefaultMaxQueryLength).
	MaxQueryLength int
	// MaxSubscriptions bounds the concurrent subscriptions of one
	// WebSocket connection (default DefaultMaxSubscriptions).
	MaxSubscriptions int
	// CheckOrigin decides which browser origins may open a WebSocket; nil
	// accepts requests without an Origin header and same-host origins.
	CheckOrigin func(*http.Request) bool
	// DisablePlayground leaves /playground unmounted.
	DisablePlayground bool
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxDepth, DefaultMaxDepth)
	def(&o.MaxComplexity, DefaultMaxComplexity)
	def(&o.MaxParallelism, DefaultMaxParallelism)
	def(&o.MaxSelections, DefaultMaxSelections)
	def(&o.MaxQueryLength, DefaultMaxQueryLength)
	def(&o.MaxSubscriptions, DefaultMaxSubscriptions)
}

// Handler serves GraphQL over HTTP (POST and GET) and WebSocket.
type Handler struct {
	opts   Options
	log    *slog.Logger
	schema *gql.Schema
	ws     http.Handler
}

// New parses the schema of api/graphql over svc; subscriptions receive
// events from sub (the app's *events.Bus). Both are required.
func New(svc *service.Service, sub core.Subscriber, opts Options) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("graphql.New: nil service: pass the app's *service.Service")
	}
	if sub == nil {
		return nil, errors.New("graphql.New: nil subscriber: pass the app's event bus (*events.Bus)")
	}
	opts.setDefaults()
	h := &Handler{opts: opts, log: opts.Logger.With(slog.String("component", "graphql"))}
	schemaOpts := []gql.SchemaOpt{
		gql.UseStringDescriptions(),
		gql.MaxDepth(opts.MaxDepth),
		gql.MaxParallelism(opts.MaxParallelism),
		gql.MaxSelections(opts.MaxSelections),
		gql.MaxQueryLength(opts.MaxQueryLength),
		gql.PanicHandler(panicHandler{}),
		gql.Logger(panicLogger{h.log}),
		gql.Tracer(varTracer{}),
	}
	if opts.DisableIntrospection {
		schemaOpts = append(schemaOpts, gql.RestrictIntrospection(func(context.Context) bool { return false }))
	}
	schema, err := gql.ParseSchema(apigraphql.SDL, &root{svc: svc, sub: sub}, schemaOpts...)
	if err != nil {
		return nil, fmt.Errorf("graphql.New: the schema does not match the resolvers: %w", err)
	}
	h.schema = schema
	check := opts.CheckOrigin
	if check == nil {
		check = sameOrigin
	}
	h.ws = graphqlws.NewHandlerFunc(wsSubscriber{h}, http.HandlerFunc(h.serveHTTP),
		graphqlws.WithContextGenerator(graphqlws.ContextGeneratorFunc(h.connectionContext)),
		graphqlws.WithCheckOrigin(check),
		graphqlws.WithMaxSubscriptions(opts.MaxSubscriptions),
		graphqlws.WithReadLimit(int64(opts.MaxQueryLength)+4096),
		graphqlws.WithWriteTimeout(10*time.Second),
	)
	return h, nil
}

// Register mounts GraphQL at /graphql (GET, POST and WebSocket) and the
// playground at /playground on e (lib/server's Server.Echo()).
func Register(e *echo.Echo, svc *service.Service, sub core.Subscriber, opts Options) error {
	h, err := New(svc, sub, opts)
	if err != nil {
		return err
	}
	h.Mount(e)
	return nil
}

// Mount adds h's routes to e.
func (h *Handler) Mount(e *echo.Echo) {
	e.GET(Path, echo.WrapHandler(h))
	e.POST(Path, echo.WrapHandler(h))
	if !h.opts.DisablePlayground {
		e.GET(PlaygroundPath, echo.WrapHandler(http.HandlerFunc(servePlaygroundPage)))
		e.GET(PlaygroundPath+"/*", servePlaygroundAsset)
	}
}

// Schema is the parsed schema (for tests and tools).
func (h *Handler) Schema() *gql.Schema { return h.schema }

// ServeHTTP serves a WebSocket upgrade (subscriptions) or a GraphQL
// request over HTTP.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.ws.ServeHTTP(w, r) }

// request is a GraphQL request over HTTP.
type request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// serveHTTP answers POST (application/json) and GET (query string)
// requests. Executed operations answer 200 with {data, errors}; a request
// that is not a GraphQL request answers 400 (405 for other methods) with
// {errors}.
func (h *Handler) serveHTTP(w http.ResponseWriter, r *http.Request) {
	var req request
	switch r.Method {
	case http.MethodPost:
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" && ct != "" {
			h.fail(w, r, http.StatusUnsupportedMediaType, core.Errorf(core.KindInvalidArgument, "unsupported Content-Type %q: send application/json", ct))
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			status := http.StatusBadRequest
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				status = http.StatusRequestEntityTooLarge
			}
			h.fail(w, r, status, core.Errorf(core.KindInvalidArgument, "the body is not a GraphQL request: %v", err))
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
	case http.MethodGet:
		q := r.URL.Query()
		req.Query, req.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				h.fail(w, r, http.StatusBadRequest, core.Errorf(core.KindInvalidArgument, "variables is not a JSON object: %v", err))
				return
			}
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		h.fail(w, r, http.StatusMethodNotAllowed, core.Errorf(core.KindInvalidArgument, "method %s is not allowed: use POST, or GET for queries", r.Method))
		return
	}
	if req.Query == "" {
		h.fail(w, r, http.StatusBadRequest, core.Errorf(core.KindInvalidArgument, "missing query"))
		return
	}
	ctx, vars := withOpVars(h.operationContext(r.Context(), r.Method == http.MethodGet))
	resp := h.schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
	resp.Data = fixRequestErrors(resp.Data, resp.Errors, vars.types, req.Variables)
	presentAll(ctx, h.log, resp.Errors)
	writeJSON(w, http.StatusOK, resp)
}

// fail answers a request that could not be executed.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	qe := &gqlerrors.QueryError{Message: err.Error(), ResolverError: err}
	present(r.Context(), h.log, qe)
	qe.Extensions["statusCode"] = status
	writeJSON(w, status, gql.Response{Errors: []*gqlerrors.QueryError{qe}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"encoding the response failed","extensions":{"type":"InternalError","code":"INTERNAL","statusCode":500}}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// operationContext prepares ctx for one operation: its complexity budget,
// and whether it came by GET (which may not mutate).
func (h *Handler) operationContext(ctx context.Context, readOnly bool) context.Context {
	ctx = withBudget(ctx, h.opts.MaxComplexity)
	if readOnly {
		ctx = context.WithValue(ctx, readOnlyKey{}, true)
	}
	return ctx
}

type readOnlyKey struct{}

// connectionContext is the context of a WebSocket connection: the
// principal and request id of the upgrade request.
func (h *Handler) connectionContext(ctx context.Context, r *http.Request) (context.Context, error) {
	if p, ok := apikey.PrincipalFrom(r.Context()); ok {
		ctx = apikey.WithPrincipal(ctx, p)
	}
	if id, ok := logging.RequestIDFrom(r.Context()); ok {
		ctx = logging.WithRequestID(ctx, id)
	}
	return ctx, nil
}

// wsSubscriber runs the operations of a WebSocket connection, presenting
// their errors as HTTP requests do.
type wsSubscriber struct{ h *Handler }

func (s wsSubscriber) Subscribe(ctx context.Context, doc, operation string, vars map[string]any) (<-chan any, error) {
	ctx = s.h.operationContext(ctx, false)
	in, err := s.h.schema.Subscribe(ctx, doc, operation, vars)
	if err != nil {
		return nil, err
	}
	out := make(chan any)
	go func() {
		defer close(out)
		for v := range in {
			if resp, ok := v.(*gql.Response); ok {
				presentAll(ctx, s.h.log, resp.Errors)
			}
			select {
			case out <- v:
			case <-ctx.Done():
				// Drain so that graphql-go's goroutine ends.
				for range in {
				}
				return
			}
		}
	}()
	return out, nil
}

// panicLogger logs resolver panics through slog.
type panicLogger struct{ log *slog.Logger }

func (l panicLogger) LogPanic(ctx context.Context, value any) {
	l.log.ErrorContext(ctx, "GraphQL resolver panicked", slog.Any("panic", value))
}

// sameOrigin accepts WebSocket upgrades without an Origin header (non-browser
// clients) and from pages served by this host (the playground).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}
