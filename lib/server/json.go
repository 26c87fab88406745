package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
)

// jsonSerializer is encoding/json with a nesting limit on request bodies,
// one JSON value per body, and errors that say what is wrong (400, or 413
// past the body limit).
type jsonSerializer struct{ maxDepth int }

var _ echo.JSONSerializer = jsonSerializer{}

func (jsonSerializer) Serialize(c echo.Context, i any, indent string) error {
	enc := json.NewEncoder(c.Response())
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(i)
}

func (s jsonSerializer) Deserialize(c echo.Context, i any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		if e, ok := middleware.AsBodyTooLarge(err); ok {
			return e
		}
		return &core.Error{Kind: core.KindInvalidArgument, Message: "reading the request body failed", Err: err}
	}
	return DecodeJSON(body, i, s.maxDepth)
}

// DecodeJSON decodes one JSON value into v, refusing a value nested
// deeper than maxDepth, trailing data and an empty body, with
// InvalidArgumentErrors (400) that say where the problem is.
func DecodeJSON(data []byte, v any, maxDepth int) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return core.Errorf(core.KindInvalidArgument, "the request body is empty: send a JSON value")
	}
	if err := CheckJSONDepth(data, maxDepth); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return core.Errorf(core.KindInvalidArgument, "malformed JSON body: unexpected data after the JSON value at offset %d", dec.InputOffset()).
			WithDetail("offset", dec.InputOffset())
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return core.Errorf(core.KindInvalidArgument, "malformed JSON body at offset %d: %s", se.Offset, se.Error()).
			WithDetail("offset", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return core.Errorf(core.KindInvalidArgument, "malformed JSON body: it ends too early")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return core.Errorf(core.KindInvalidArgument, "invalid JSON body: expected %s, got %s", jsonType(te.Type.String()), te.Value)
		}
		return core.Errorf(core.KindInvalidArgument, "invalid JSON body: field %s must be %s, not %s", field, jsonType(te.Type.String()), te.Value).
			WithDetail("field", field)
	}
	var ce *core.Error
	if errors.As(err, &ce) { // an UnmarshalJSON of the api types
		return err
	}
	return &core.Error{Kind: core.KindInvalidArgument, Message: "invalid JSON body: " + err.Error(), Err: err}
}

// jsonType names a Go type the way a JSON user would.
func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		return "an object"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	}
	return goType
}

// CheckJSONDepth refuses JSON whose arrays and objects nest deeper than
// max, scanning the bytes once before any decoding (so a hostile body
// never reaches the decoder's recursion).
func CheckJSONDepth(data []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, b := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			if depth > max {
				return core.Errorf(core.KindInvalidArgument, "JSON body nested too deeply: more than %d levels", max).
					WithDetail("max_depth", max)
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return nil
}

// binder binds path parameters, query parameters (GET, DELETE, HEAD) and
// a JSON body; a body of another type is refused with 415.
type binder struct{ echo.DefaultBinder }

var _ echo.Binder = (*binder)(nil)

func (b *binder) Bind(i any, c echo.Context) error {
	if err := b.BindPathParams(c, i); err != nil {
		return err
	}
	switch c.Request().Method {
	case http.MethodGet, http.MethodDelete, http.MethodHead:
		if err := b.BindQueryParams(c, i); err != nil {
			return err
		}
	}
	return b.BindBody(c, i)
}

// BindBody decodes a JSON body (Content-Type application/json, a +json
// type, or none); nothing when the body is empty.
func (b *binder) BindBody(c echo.Context, i any) error {
	req := c.Request()
	if req.ContentLength == 0 {
		return nil
	}
	if err := RequireJSON(req); err != nil {
		return err
	}
	return c.Echo().JSONSerializer.Deserialize(c, i)
}

// RequireJSON refuses a request whose Content-Type is set and is not
// JSON: 415, saying what to send. A missing Content-Type is taken as
// JSON.
func RequireJSON(req *http.Request) error {
	ct := req.Header.Get(echo.HeaderContentType)
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return UnsupportedMediaType(ct)
}

// UnsupportedMediaType is the 415 error for a body of type contentType.
func UnsupportedMediaType(contentType string) *core.Error {
	return apitypes.ErrorForStatus(http.StatusUnsupportedMediaType,
		fmt.Sprintf("unsupported Content-Type %q: send a JSON body with Content-Type: application/json", contentType)).
		WithDetail("content_type", contentType)
}
