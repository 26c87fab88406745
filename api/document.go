package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/api/openapi"
	"github.com/ratchet-go/ratchet/core"
)

// Document builds the OpenAPI 3.0 document of every route. Each call
// builds a new tree; OpenAPIJSON and OpenAPIYAML cache their output.
func Document() *openapi.Document {
	b := newBuilder()
	return b.build()
}

var (
	jsonOnce = sync.OnceValue(func() []byte {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(Document()); err != nil {
			panic(fmt.Sprintf("api: encoding the OpenAPI document: %v", err))
		}
		return buf.Bytes()
	})
	yamlOnce = sync.OnceValue(func() []byte {
		y, err := openapi.YAML(jsonOnce())
		if err != nil {
			panic(fmt.Sprintf("api: rendering the OpenAPI document as YAML: %v", err))
		}
		return y
	})
)

// OpenAPIJSON is the OpenAPI document as indented JSON, served at
// /api/v1/openapi.json. The caller must not modify it.
func OpenAPIJSON() []byte { return jsonOnce() }

// OpenAPIYAML is the OpenAPI document as YAML, served at
// /api/v1/openapi.yaml. The caller must not modify it.
func OpenAPIYAML() []byte { return yamlOnce() }

const description = "Ratchet runs small JavaScript tasks: queued and retried jobs, cron schedules, " +
	"synchronous executions in isolated worker processes, and delivery of results to files and webhooks.\n\n" +
	"**Conventions.** JSON is snake_case; enums are lowercase; times are RFC 3339 in UTC. " +
	"Creating answers 201 with a Location header, deleting 204.\n\n" +
	"**Lists** follow the Refine simple-rest convention: the body is a JSON array, the headers " +
	"`X-Total-Count` and `Content-Range` (`<resource> <first>-<last>/<total>`) give the total. " +
	"`_start` and `_end` (exclusive) or `offset` and `limit` select the page (default 25 items, at most 1000); " +
	"`_sort` and `_order` (asc|desc) are comma lists; `field=value` filters (repeat it for IN; empty or `null` matches null), " +
	"as do `field_ne`, `field_like` (text), `field_gte` and `field_lte`; `q` searches the text fields. " +
	"An unknown field is a 400.\n\n" +
	"**Errors** use one envelope everywhere: " +
	"`{\"error\":{\"type\",\"message\",\"code\",\"details\",\"trace_id\",\"timestamp\"},\"message\",\"statusCode\"}`; " +
	"`type` is the error kind (such as NotFoundError), `code` a stable string derived from it (NOT_FOUND), " +
	"`trace_id` the request id (`X-Request-ID`), and `message` and `statusCode` repeat the error's.\n\n" +
	"**Authentication**, when the server enables it: `Authorization: Bearer <api key>`; viewers may read, " +
	"operators may also change and run, admins may do everything. Rate limits answer 429 with Retry-After."

type builder struct {
	gen *openapi.Generator
	doc *openapi.Document
}

func newBuilder() *builder {
	g := openapi.NewGenerator()
	g.Define(reflect.TypeFor[core.JobStatus](), enumSchema(core.JobStatuses))
	g.Define(reflect.TypeFor[core.ExecutionStatus](), enumSchema(core.ExecutionStatuses))
	g.Define(reflect.TypeFor[core.WorkerStatus](), enumSchema(core.WorkerStatuses))
	prios := make([]string, len(core.Priorities))
	for i, p := range core.Priorities {
		prios[i] = p.String()
	}
	g.Define(reflect.TypeFor[core.Priority](), enumSchema(prios))
	g.Define(reflect.TypeFor[apitypes.TaskRef](), &openapi.Schema{
		OneOf:       []*openapi.Schema{{Type: "integer", Format: "int64"}, {Type: "string"}},
		Description: "A task's numeric id, uuid or name.",
	})
	return &builder{gen: g, doc: &openapi.Document{
		OpenAPI: openapi.Version,
		Info: openapi.Info{
			Title: "Ratchet API", Version: "1.0.0", Description: description,
		},
		Servers:  []openapi.Server{{URL: "/", Description: "This server"}},
		Security: []map[string][]string{{"bearerAuth": {}}},
	}}
}

func enumSchema[T ~string](vals []T) *openapi.Schema {
	s := &openapi.Schema{Type: "string"}
	for _, v := range vals {
		s.Enum = append(s.Enum, string(v))
	}
	return s
}

// errorDescriptions are the component responses for error statuses.
var errorDescriptions = map[int]struct{ name, description string }{
	400: {"BadRequest", "Invalid input: a bad parameter, body or filter (InvalidArgumentError, ValidationError, InputValidationError)."},
	401: {"Unauthorized", "No valid API key (UnauthorizedError)."},
	403: {"Forbidden", "The API key's role may not do this (AuthorizationError)."},
	404: {"NotFound", "No such resource (NotFoundError)."},
	409: {"Conflict", "The resource's state forbids this, or it exists already (ConflictError)."},
	413: {"PayloadTooLarge", "The body is larger than the server accepts."},
	422: {"UnprocessableEntity", "The input is well-formed but unusable (DataError, OutputValidationError)."},
	429: {"TooManyRequests", "Rate limited, or the job queue is full (RateLimitError). Retry after Retry-After seconds."},
	500: {"InternalError", "An unexpected failure (InternalError, or a task's own error during a synchronous execution)."},
	502: {"BadGateway", "A task's request to another service failed (NetworkError)."},
	503: {"ServiceUnavailable", "Ratchet or a service a task called is unavailable (ServiceUnavailableError)."},
	504: {"GatewayTimeout", "The execution timed out (TimeoutError)."},
}

var errorExamples = map[int]error{
	400: core.Errorf(core.KindInvalidArgument, `unknown filter field "colour" for jobs`).WithDetail("parameter", "colour"),
	401: core.NewError(core.KindUnauthorized, "missing or invalid API key"),
	403: core.NewError(core.KindAuthorization, "role viewer may not create jobs"),
	404: core.NewError(core.KindNotFound, "job 42 not found"),
	409: core.NewError(core.KindConflict, "job cannot go from completed to cancelled"),
	413: apitypes.ErrorForStatus(413, "request body larger than 10 MiB"),
	422: core.NewError(core.KindOutputValidation, "output does not match the output schema"),
	429: core.NewError(core.KindRateLimit, "rate limit exceeded: retry in 12s"),
	500: core.NewError(core.KindInternal, "internal server error"),
	502: core.NewError(core.KindNetwork, "fetch https://example.com/api: connection refused"),
	503: core.NewError(core.KindServiceUnavailable, "the job queue is shutting down"),
	504: core.NewError(core.KindTimeout, "execution exceeded 30s"),
}

// commonErrors are on every /api/v1 route.
var commonErrors = []int{401, 403, 429, 500}

func (b *builder) build() *openapi.Document {
	d := b.doc
	for _, t := range tags {
		d.Tags = append(d.Tags, openapi.Tag{Name: t.name, Description: t.description})
	}
	b.components()
	for _, r := range routes {
		item, ok := d.Paths.Get(r.Path)
		if !ok {
			item = &openapi.PathItem{}
			d.Paths.Set(r.Path, item)
		}
		if item.Operation(r.Method) != nil {
			panic("api: two routes for " + r.Method + " " + r.Path)
		}
		if !item.SetOperation(r.Method, b.operation(r)) {
			panic("api: unsupported method " + r.Method)
		}
	}
	d.Components.Schemas = b.gen.Schemas()
	if body, ok := d.Components.Schemas.Get("ErrorBody"); ok {
		if code, ok := body.Properties.Get("code"); ok {
			for _, c := range apitypes.ErrorCodes() {
				code.Enum = append(code.Enum, c)
			}
		}
	}
	return d
}

func header(desc, typ string) *openapi.Header {
	s := &openapi.Schema{Type: typ}
	if typ == "integer" {
		s.Format = "int64"
	}
	return &openapi.Header{Description: desc, Schema: s}
}

func headerRef(name string) *openapi.Header {
	return &openapi.Header{Ref: "#/components/headers/" + name}
}

func (b *builder) components() {
	c := &b.doc.Components
	c.SecuritySchemes.Set("bearerAuth", &openapi.SecurityScheme{
		Type: "http", Scheme: "bearer", BearerFormat: "API key",
		Description: "An API key created with `ratchet apikey create`, when the server has authentication on.",
	})
	c.Headers.Set("X-Total-Count", header("The number of items matching the filters.", "integer"))
	c.Headers.Set("Content-Range", header("`<resource> <first>-<last>/<total>`, or `<resource> */<total>` for an empty page.", "string"))
	c.Headers.Set("Location", header("The URL of the created resource.", "string"))
	c.Headers.Set("X-Request-ID", header("The request id (given by the client or generated); the trace_id of errors.", "string"))
	c.Headers.Set("Retry-After", header("Seconds to wait before retrying.", "integer"))
	c.Headers.Set("X-RateLimit-Limit", header("Requests allowed per minute.", "integer"))
	c.Headers.Set("X-RateLimit-Remaining", header("Requests left in the current window.", "integer"))
	c.Headers.Set("X-RateLimit-Reset", header("Unix time at which the window resets.", "integer"))

	envelope := b.gen.Ref(apitypes.ErrorEnvelope{})
	for _, status := range sortedStatuses() {
		e := errorDescriptions[status]
		resp := &openapi.Response{Description: e.description}
		resp.Headers.Set("X-Request-ID", headerRef("X-Request-ID"))
		if status == 429 {
			resp.Headers.Set("Retry-After", headerRef("Retry-After"))
			resp.Headers.Set("X-RateLimit-Limit", headerRef("X-RateLimit-Limit"))
			resp.Headers.Set("X-RateLimit-Remaining", headerRef("X-RateLimit-Remaining"))
			resp.Headers.Set("X-RateLimit-Reset", headerRef("X-RateLimit-Reset"))
		}
		example := apitypes.NewErrorEnvelope(errorExamples[status], "01J9ZK3T0000000000000000RQ")
		example.Error.Timestamp = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		resp.Content.Set("application/json", &openapi.MediaType{Schema: envelope, Example: example})
		c.Responses.Set(e.name, resp)
	}

	for _, p := range []*openapi.Parameter{
		{Name: listquery.ParamStart, In: "query", Description: "Index of the first item (from 0).", Schema: intSchema(0)},
		{Name: listquery.ParamEnd, In: "query", Description: "Index after the last item: the page is _end - _start items (at most 1000).", Schema: intSchema(1)},
		{Name: listquery.ParamSort, In: "query", Description: "Comma list of fields to sort by.", Schema: &openapi.Schema{Type: "string"}},
		{Name: listquery.ParamOrder, In: "query", Description: "Comma list of asc or desc, one per _sort field (missing ones are asc).", Schema: &openapi.Schema{Type: "string"}, Example: "desc"},
		{Name: listquery.ParamOffset, In: "query", Description: "Items to skip (instead of _start).", Schema: intSchema(0)},
		{Name: listquery.ParamLimit, In: "query", Description: "Page size (instead of _end; default 25, at most 1000).", Schema: intSchema(1)},
		{Name: listquery.ParamQ, In: "query", Description: "Free-text search over the resource's text fields.", Schema: &openapi.Schema{Type: "string"}},
	} {
		c.Parameters.Set(paramComponent(p.Name), p)
	}
}

func paramComponent(name string) string {
	return "list" + strings.ReplaceAll(title(strings.TrimPrefix(name, "_")), "_", "")
}

func intSchema(minimum float64) *openapi.Schema {
	return &openapi.Schema{Type: "integer", Minimum: &minimum}
}

func sortedStatuses() []int {
	out := make([]int, 0, len(errorDescriptions))
	for s := range errorDescriptions {
		out = append(out, s)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (b *builder) operation(r Route) *openapi.Operation {
	s := r.spec
	op := &openapi.Operation{
		OperationID: r.OperationID, Summary: r.Summary, Description: s.description, Tags: []string{r.Tag},
	}
	if s.public {
		op.Security = []map[string][]string{}
	}
	switch s.idParam {
	case "task":
		op.Parameters = append(op.Parameters, &openapi.Parameter{Name: "id", In: "path", Required: true,
			Description: "The task's numeric id, uuid or name.", Schema: &openapi.Schema{Type: "string"}})
	case "int":
		op.Parameters = append(op.Parameters, &openapi.Parameter{Name: "id", In: "path", Required: true,
			Description: "Numeric id.", Schema: &openapi.Schema{Type: "integer", Format: "int64"}})
	case "worker":
		op.Parameters = append(op.Parameters, &openapi.Parameter{Name: "id", In: "path", Required: true,
			Description: "The worker's id.", Schema: &openapi.Schema{Type: "string"}})
	}
	for _, q := range s.query {
		op.Parameters = append(op.Parameters, &openapi.Parameter{Name: q.name, In: "query", Description: q.description,
			Schema: &openapi.Schema{Type: q.typ}})
	}
	if r.List != nil {
		op.Parameters = append(op.Parameters, listParams(r.List)...)
		if op.Description == "" {
			op.Description = fmt.Sprintf("A page of %s (Refine simple-rest list). Filter and sort fields: %s. q searches %s.",
				r.List.Name, strings.Join(r.List.FieldNames(), ", "), strings.Join(r.List.Search, ", "))
		}
	}
	if s.body != nil {
		rb := &openapi.RequestBody{Required: !s.bodyOptional}
		rb.Content.Set("application/json", &openapi.MediaType{Schema: b.gen.Ref(s.body)})
		if s.zip {
			rb.Content.Set("application/zip", &openapi.MediaType{Schema: &openapi.Schema{Type: "string", Format: "binary"}})
		}
		op.RequestBody = rb
	}

	ok := &openapi.Response{Description: successDescription(r)}
	ok.Headers.Set("X-Request-ID", headerRef("X-Request-ID"))
	switch {
	case r.List != nil:
		ok.Headers.Set("X-Total-Count", headerRef("X-Total-Count"))
		ok.Headers.Set("Content-Range", headerRef("Content-Range"))
	case r.Status == http.StatusCreated:
		ok.Headers.Set("Location", headerRef("Location"))
	}
	switch {
	case s.response != nil:
		ok.Content.Set("application/json", &openapi.MediaType{Schema: b.gen.Schema(reflect.TypeOf(s.response))})
	case s.contentType != "":
		sch := &openapi.Schema{Type: "string"}
		if s.contentType == "application/json" {
			sch = &openapi.Schema{Type: "object", Description: "An OpenAPI 3.0 document."}
		}
		ok.Content.Set(s.contentType, &openapi.MediaType{Schema: sch})
	}
	op.Responses.Set(strconv.Itoa(r.Status), ok)
	for _, a := range s.alt {
		resp := &openapi.Response{Description: a.description}
		resp.Headers.Set("X-Request-ID", headerRef("X-Request-ID"))
		resp.Content.Set("application/json", &openapi.MediaType{Schema: b.gen.Ref(a.body)})
		op.Responses.Set(strconv.Itoa(a.status), resp)
	}
	errs := map[int]bool{}
	for _, e := range s.errors {
		errs[e] = true
	}
	if !s.public {
		for _, e := range commonErrors {
			errs[e] = true
		}
	}
	for _, st := range sortedStatuses() {
		if errs[st] {
			if _, taken := op.Responses.Get(strconv.Itoa(st)); !taken {
				op.Responses.Set(strconv.Itoa(st), &openapi.Response{Ref: "#/components/responses/" + errorDescriptions[st].name})
			}
		}
	}
	return op
}

func successDescription(r Route) string {
	switch {
	case r.List != nil:
		return "A page of " + r.List.Name + ", as a JSON array."
	case r.Status == http.StatusNoContent:
		return "Deleted."
	case r.Status == http.StatusCreated:
		return "Created."
	case r.Status == http.StatusAccepted:
		return "Accepted: the queued job."
	}
	return "OK."
}

// listParams are the query parameters of a list: the shared paging ones by
// reference, then each field's filters.
func listParams(res *listquery.Resource) []*openapi.Parameter {
	var ps []*openapi.Parameter
	for _, name := range []string{listquery.ParamStart, listquery.ParamEnd, listquery.ParamSort, listquery.ParamOrder,
		listquery.ParamOffset, listquery.ParamLimit, listquery.ParamQ} {
		ps = append(ps, &openapi.Parameter{Ref: "#/components/parameters/" + paramComponent(name)})
	}
	explode := true
	for _, f := range res.Fields {
		eqDesc := "Equal to; repeat for any of several values."
		if f.Nullable {
			eqDesc += " Empty or null matches null."
		}
		ps = append(ps, &openapi.Parameter{Name: f.Name, In: "query", Description: eqDesc, Style: "form", Explode: &explode,
			Schema: &openapi.Schema{Type: "array", Items: fieldSchema(f)}})
		ps = append(ps, &openapi.Parameter{Name: f.Name + "_ne", In: "query", Description: "Not equal to (repeat to exclude several).",
			Style: "form", Explode: &explode, Schema: &openapi.Schema{Type: "array", Items: fieldSchema(f)}})
		if f.Type == listquery.String || f.Type == listquery.Enum {
			ps = append(ps, &openapi.Parameter{Name: f.Name + "_like", In: "query", Description: "Contains (case-insensitive).",
				Schema: &openapi.Schema{Type: "string"}})
		}
		if f.Type != listquery.Boolean {
			ps = append(ps,
				&openapi.Parameter{Name: f.Name + "_gte", In: "query", Description: "Greater than or equal to.", Schema: fieldSchema(f)},
				&openapi.Parameter{Name: f.Name + "_lte", In: "query", Description: "Less than or equal to.", Schema: fieldSchema(f)})
		}
	}
	return ps
}

func fieldSchema(f listquery.Field) *openapi.Schema {
	switch f.Type {
	case listquery.Integer:
		return &openapi.Schema{Type: "integer", Format: "int64"}
	case listquery.Boolean:
		return &openapi.Schema{Type: "boolean"}
	case listquery.DateTime:
		return &openapi.Schema{Type: "string", Description: "RFC 3339 time, a date (2006-01-02) or Unix seconds."}
	case listquery.Enum:
		s := &openapi.Schema{Type: "string"}
		for _, v := range f.Enum {
			s.Enum = append(s.Enum, v)
		}
		return s
	case listquery.PriorityName:
		return &openapi.Schema{Type: "string", Description: "low, normal, high, urgent (critical), or 0 to 3."}
	}
	return &openapi.Schema{Type: "string"}
}
