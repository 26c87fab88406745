package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
)

// validator is implemented by the api's request types.
type validator interface{ Validate() error }

// readBody reads the whole request body; a body over the server's limit
// is the 413 error.
func readBody(c echo.Context) ([]byte, error) {
	body := c.Request().Body
	if body == nil || body == http.NoBody {
		return nil, nil
	}
	data, err := io.ReadAll(body)
	if err != nil {
		if e, ok := middleware.AsBodyTooLarge(err); ok {
			return nil, e
		}
		return nil, core.WrapError(core.KindInvalidArgument, err, "reading the request body failed")
	}
	return data, nil
}

// mediaType is the request's Content-Type without parameters, lower case;
// "" when none is set.
func mediaType(r *http.Request) string {
	ct := r.Header.Get(echo.HeaderContentType)
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}

func isJSONType(mt string) bool {
	return mt == "" || mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")
}

// unsupportedMediaType is the 415 error for a body of the wrong type.
func unsupportedMediaType(contentType, want string) error {
	return apitypes.ErrorForStatus(http.StatusUnsupportedMediaType,
		fmt.Sprintf("unsupported Content-Type %q: send %s", contentType, want)).
		WithDetail("content_type", contentType)
}

// bindJSON decodes the request's JSON object body into v (a pointer to a
// request struct) strictly: a member that is not one of the struct's JSON
// names is a 400 naming it (names match exactly, as they are written in
// the API), a member of the wrong type is a 400 naming it, and v's
// Validate runs afterwards. An empty body (or null) leaves v zero when
// optional is true and is a 400 otherwise.
func bindJSON(c echo.Context, v any, optional bool) error {
	req := c.Request()
	if mt := mediaType(req); !isJSONType(mt) {
		return unsupportedMediaType(req.Header.Get(echo.HeaderContentType), "a JSON body with Content-Type: application/json")
	}
	data, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeStrict(c, data, v, optional)
}

// decodeStrict is bindJSON on a body already read.
func decodeStrict(c echo.Context, data []byte, v any, optional bool) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		if !optional {
			return core.Errorf(core.KindInvalidArgument, "the request body is empty: send a JSON object")
		}
		return runValidate(v)
	}
	if trimmed[0] != '{' {
		return core.Errorf(core.KindInvalidArgument, "the request body must be a JSON object")
	}
	// The server's serializer checks the nesting depth, one value per
	// body and the syntax, with messages that say where.
	var members map[string]json.RawMessage
	c.Request().Body = io.NopCloser(bytes.NewReader(data))
	if err := c.Echo().JSONSerializer.Deserialize(c, &members); err != nil {
		return bodyError(err)
	}
	if err := decodeMembers(members, v); err != nil {
		return err
	}
	return runValidate(v)
}

// bodyError keeps the serializer's own errors (lib/server's say where the
// body is malformed) and makes any other a 400.
func bodyError(err error) error {
	var ce *core.Error
	if errors.As(err, &ce) {
		return err
	}
	if e, ok := middleware.AsBodyTooLarge(err); ok {
		return e
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Internal != nil {
		err = he.Internal
	}
	return core.WrapError(core.KindInvalidArgument, err, "malformed JSON body")
}

func runValidate(v any) error {
	if val, ok := v.(validator); ok {
		return val.Validate()
	}
	if val, ok := reflect.ValueOf(v).Elem().Interface().(validator); ok {
		return val.Validate()
	}
	return nil
}

// decodeMembers sets the fields of the struct v points to from a JSON
// object's members, one member at a time so that every error names its
// field.
func decodeMembers(members map[string]json.RawMessage, v any) error {
	rv := reflect.ValueOf(v).Elem()
	fields := jsonFields(rv.Type())
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic: the first bad member by name
	for _, name := range names {
		idx, ok := fields.index[name]
		if !ok {
			return core.Errorf(core.KindInvalidArgument, "unknown field %q: the body takes %s", name, strings.Join(fields.names, ", ")).
				WithDetail("field", name)
		}
		if err := json.Unmarshal(members[name], rv.Field(idx).Addr().Interface()); err != nil {
			return fieldError(name, err)
		}
	}
	return nil
}

// fieldError makes a decoding error of one member a 400 naming it.
func fieldError(name string, err error) error {
	var ce *core.Error
	if errors.As(err, &ce) {
		out := &core.Error{Kind: ce.Kind, Message: ce.Message, Status: ce.Status, Err: ce.Err}
		for k, v := range ce.Details {
			out = out.WithDetail(k, v)
		}
		if _, ok := out.Details["field"]; !ok {
			out = out.WithDetail("field", name)
		}
		return out
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := name
		if te.Field != "" {
			field = name + "." + te.Field
		}
		return core.Errorf(core.KindInvalidArgument, "field %s must be %s, not %s", field, jsonKind(te.Type), te.Value).
			WithDetail("field", field)
	}
	return core.Errorf(core.KindInvalidArgument, "field %s is invalid: %v", name, err).WithDetail("field", name)
}

// jsonKind names a Go type the way a JSON user would.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	}
	return t.String()
}

type fieldSet struct {
	index map[string]int
	names []string
}

var fieldCache sync.Map // reflect.Type → fieldSet

// jsonFields maps the JSON names of a struct's exported fields to their
// indexes.
func jsonFields(t reflect.Type) fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(fieldSet)
	}
	fs := fieldSet{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs.index[name] = i
		fs.names = append(fs.names, name)
	}
	fieldCache.Store(t, fs)
	return fs
}
