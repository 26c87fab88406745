package graphql

import (
	"context"
	"fmt"
	"math"
	"sort"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/graph-gophers/graphql-go/introspection"
	"github.com/graph-gophers/graphql-go/trace/tracer"
)

// graphql-go validates variables of enum and input-object types but
// coerces scalar variables only while it executes: a value it cannot
// coerce ($n: Int! given "abc") becomes an error without a path, the
// operation runs no field, and the response holds "data":{}. That is a
// request error, which per the GraphQL specification has no data entry;
// fixRequestErrors makes it one and names the variable at fault, using
// the variable types varTracer recorded.

// opVars holds the variable types of one operation, filled by varTracer.
type opVars struct {
	types map[string]*introspection.Type
}

type opVarsKey struct{}

// withOpVars prepares ctx for varTracer to record the operation's
// variable types in the returned holder.
func withOpVars(ctx context.Context) (context.Context, *opVars) {
	v := &opVars{}
	return context.WithValue(ctx, opVarsKey{}, v), v
}

// varTracer is the schema's tracer: it only records variable types.
type varTracer struct{}

var _ tracer.Tracer = varTracer{}

func (varTracer) TraceQuery(ctx context.Context, _, _ string, _ map[string]any, types map[string]*introspection.Type) (context.Context, tracer.QueryFinishFunc) {
	if v, ok := ctx.Value(opVarsKey{}).(*opVars); ok {
		v.types = types
	}
	return ctx, func([]*gqlerrors.QueryError) {}
}

func (varTracer) TraceField(ctx context.Context, _, _, _ string, _ bool, _ map[string]any) (context.Context, tracer.FieldFinishFunc) {
	return ctx, func(*gqlerrors.QueryError) {}
}

// isRequestError reports whether qe is an error of the request rather
// than of a field: raised before any resolver ran, so it has no path.
func isRequestError(qe *gqlerrors.QueryError) bool {
	return qe != nil && len(qe.Path) == 0 && qe.ResolverError == nil
}

// fixRequestErrors drops the data of a response whose errors are request
// errors, and names the variable that could not be coerced. It returns
// the data to send.
func fixRequestErrors(data []byte, errs []*gqlerrors.QueryError, types map[string]*introspection.Type, vars map[string]any) []byte {
	if len(errs) == 0 {
		return data
	}
	for _, qe := range errs {
		if !isRequestError(qe) {
			return data
		}
	}
	if len(errs) == 1 {
		if name, typ, ok := badVariable(types, vars); ok {
			errs[0].Message = fmt.Sprintf("Variable \"$%s\" has invalid value %s: expected type %s (%s)", name, describeValue(vars[name]), typ, errs[0].Message)
			errs[0].Rule = "VariablesOfCorrectType"
		}
	}
	return nil
}

// badVariable is the first variable (by name) whose value cannot be
// coerced to its built-in scalar type.
func badVariable(types map[string]*introspection.Type, vars map[string]any) (name, typ string, ok bool) {
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if v, set := vars[n]; set && !coercible(types[n], v) {
			return n, typeString(types[n]), true
		}
	}
	return "", "", false
}

// coercible reports whether v may be coerced to t; only built-in scalars
// are checked (the library validates enums and input objects itself, and
// custom scalars decide for themselves).
func coercible(t *introspection.Type, v any) bool {
	if t == nil || v == nil {
		return true
	}
	switch t.Kind() {
	case "NON_NULL":
		return coercible(t.OfType(), v)
	case "LIST":
		if l, ok := v.([]any); ok {
			for _, e := range l {
				if !coercible(t.OfType(), e) {
					return false
				}
			}
			return true
		}
		return coercible(t.OfType(), v)
	case "SCALAR":
	default:
		return true
	}
	name := ""
	if n := t.Name(); n != nil {
		name = *n
	}
	switch name {
	case "Int":
		f, ok := number(v)
		return ok && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32
	case "Float":
		_, ok := number(v)
		return ok
	case "String":
		_, ok := v.(string)
		return ok
	case "Boolean":
		_, ok := v.(bool)
		return ok
	case "ID":
		if _, ok := v.(string); ok {
			return true
		}
		f, ok := number(v)
		return ok && f == math.Trunc(f)
	}
	return true
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func typeString(t *introspection.Type) string {
	switch t.Kind() {
	case "NON_NULL":
		return typeString(t.OfType()) + "!"
	case "LIST":
		return "[" + typeString(t.OfType()) + "]"
	}
	if n := t.Name(); n != nil {
		return *n
	}
	return "?"
}

func describeValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}
