package graphql

import (
	"context"
	"errors"
	"log/slog"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/core/logging"
)

// present is the one mapping from an error to what a GraphQL client sees
// (STYLE: one error presenter per edge). It rewrites qe in place: the
// message and extensions {type, code, statusCode, details} come from
// apitypes.NewErrorEnvelope, as the REST API's error envelope does, so
// that both interfaces report an error alike. Errors of the query itself
// (syntax, validation, depth, selections) are InvalidArgumentError; a
// resolver's error keeps its kind; an error without a kind is an
// InternalError whose text is logged, never shown.
func present(ctx context.Context, log *slog.Logger, qe *gqlerrors.QueryError) {
	if qe == nil {
		return
	}
	src := sourceError(qe)
	traceID, _ := logging.RequestIDFrom(ctx)
	env := apitypes.NewErrorEnvelope(src, traceID)
	if env.StatusCode >= 500 && core.KindOf(src) == core.KindInternal {
		log.ErrorContext(ctx, "GraphQL resolver failed", slog.String("error", src.Error()), slog.Any("path", qe.Path))
	}
	qe.Message = env.Error.Message
	ext := map[string]any{
		"type":       env.Error.Type,
		"code":       env.Error.Code,
		"statusCode": env.StatusCode,
	}
	if len(env.Error.Details) > 0 {
		ext["details"] = env.Error.Details
	}
	if traceID != "" {
		ext["traceId"] = traceID
	}
	qe.Extensions = ext
}

// sourceError is the error qe reports, with its kind.
func sourceError(qe *gqlerrors.QueryError) error {
	if qe.ResolverError != nil {
		return qe.ResolverError
	}
	var ce *core.Error
	if qe.Err != nil && (errors.As(qe.Err, &ce) || errors.Is(qe.Err, context.Canceled) || errors.Is(qe.Err, context.DeadlineExceeded)) {
		return qe.Err
	}
	e := core.NewError(core.KindInvalidArgument, qe.Message)
	if qe.Rule != "" {
		e = e.WithDetail("rule", qe.Rule)
	}
	return e
}

// presentAll presents every error of a response.
func presentAll(ctx context.Context, log *slog.Logger, errs []*gqlerrors.QueryError) {
	for _, qe := range errs {
		present(ctx, log, qe)
	}
}

// panicHandler turns a resolver's panic into an InternalError (logged by
// present, not shown).
type panicHandler struct{}

func (panicHandler) MakePanicError(_ context.Context, value any) *gqlerrors.QueryError {
	err := core.Errorf(core.KindInternal, "panic in a resolver: %v", value)
	return &gqlerrors.QueryError{Message: err.Message, ResolverError: &core.Error{Kind: core.KindInternal, Message: "", Err: err}}
}

// forbidden is the error of a mutation by a principal that may only read.
func forbidden(what string, role string) error {
	return core.Errorf(core.KindAuthorization, "%s needs the operator role; this API key has role %s", what, role).
		WithDetail("role", role).WithDetail("required_role", "operator")
}
