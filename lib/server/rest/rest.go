package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/service"
)

// Options configure Register.
type Options struct {
	// Logger receives the handlers' own log lines (requests are logged by
	// the server's middleware); nil discards.
	Logger *slog.Logger
	// BasePath is the path the group is mounted at, for Location headers;
	// default api.V1Prefix.
	BasePath string
	// MaxMultipartMemory is how much of a multipart task upload is kept in
	// memory before spilling to temporary files (default 8 MiB). The
	// server's body limit bounds the whole body.
	MaxMultipartMemory int64
}

// ServedByServer are the operations of api.Routes under /api/v1 that
// lib/server serves itself (the OpenAPI document and the reference page);
// Register mounts every other /api/v1 route.
var ServedByServer = []string{"getOpenAPIJSON", "getOpenAPIYAML", "getAPIReference"}

// handlers serves the REST resources over the service.
type handlers struct {
	svc  *service.Service
	log  *slog.Logger
	base string
	opts Options
}

// Register mounts every REST resource route of api.Routes (the /api/v1
// routes except ServedByServer) on g, which must be the /api/v1 group
// (lib/server's Server.API()). Each route is named by its operation id.
// Errors are returned to Echo: the server's error handler answers them
// with the error envelope.
func Register(g *echo.Group, svc *service.Service, opts Options) error {
	if g == nil {
		return errors.New("rest.Register: nil group: pass the server's /api/v1 group (server.Server.API())")
	}
	if svc == nil {
		return errors.New("rest.Register: nil service: pass the application's *service.Service")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BasePath == "" {
		opts.BasePath = api.V1Prefix
	}
	if opts.MaxMultipartMemory <= 0 {
		opts.MaxMultipartMemory = 8 << 20
	}
	h := &handlers{svc: svc, log: opts.Logger, base: strings.TrimSuffix(opts.BasePath, "/"), opts: opts}
	table := h.table()
	skip := map[string]bool{}
	for _, id := range ServedByServer {
		skip[id] = true
	}
	for _, r := range api.Routes() {
		if !strings.HasPrefix(r.Path, api.V1Prefix+"/") || skip[r.OperationID] {
			continue
		}
		fn, ok := table[r.OperationID]
		if !ok {
			return fmt.Errorf("rest.Register: no handler for %s %s (%s)", r.Method, r.Path, r.OperationID)
		}
		delete(table, r.OperationID)
		route := g.Add(r.Method, strings.TrimPrefix(r.ColonPath(), api.V1Prefix), fn)
		route.Name = r.OperationID
	}
	for id := range table {
		return fmt.Errorf("rest.Register: handler %s has no route in api.Routes", id)
	}
	return nil
}

// table maps each operation id to its handler.
func (h *handlers) table() map[string]echo.HandlerFunc {
	return map[string]echo.HandlerFunc{
		// Tasks.
		"listTasks":    listHandler(listquery.Tasks, h.svc.Tasks().List, convertTasks),
		"createTask":   h.createTask,
		"getTask":      h.getTask,
		"updateTask":   h.updateTask,
		"deleteTask":   h.deleteTask,
		"executeTask":  h.executeTask,
		"testTask":     h.testTask,
		"validateTask": h.validateTask,
		// Jobs.
		"listJobs":    listHandler(listquery.Jobs, h.svc.Jobs().List, convertJobs),
		"createJob":   h.createJob,
		"getJobStats": h.getJobStats,
		"getJob":      h.getJob,
		"deleteJob":   h.deleteJob,
		"cancelJob":   h.cancelJob,
		"retryJob":    h.retryJob,
		// Executions.
		"listExecutions":   listHandler(listquery.Executions, h.svc.Executions().List, convertExecutions),
		"getExecution":     h.getExecution,
		"getExecutionLogs": h.getExecutionLogs,
		// Schedules.
		"listSchedules":   listHandler(listquery.Schedules, h.svc.Schedules().List, convertSchedules),
		"createSchedule":  h.createSchedule,
		"getSchedule":     h.getSchedule,
		"updateSchedule":  h.updateSchedule,
		"deleteSchedule":  h.deleteSchedule,
		"enableSchedule":  h.enableSchedule,
		"disableSchedule": h.disableSchedule,
		"triggerSchedule": h.triggerSchedule,
		// Workers.
		"listWorkers":    h.listWorkers,
		"getWorkerStats": h.getWorkerStats,
		"getWorker":      h.getWorker,
		// Deliveries.
		"listDeliveries": listHandler(listquery.Deliveries, h.svc.Deliveries().List, convertDeliveries),
	}
}

// listHandler answers a list route in the Refine simple-rest convention:
// the query parsed by listquery.Parse (unknown fields are a 400), a JSON
// array body, X-Total-Count and Content-Range.
func listHandler[T, U any](res *listquery.Resource, fetch func(context.Context, core.ListQuery) (core.Page[T], error), convert func([]T) []U) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := listquery.Parse(c.QueryParams(), res)
		if err != nil {
			return err
		}
		page, err := fetch(c.Request().Context(), q)
		if err != nil {
			return err
		}
		items := convert(page.Items)
		listquery.SetHeaders(c.Response().Header(), res.Name, q.Offset, len(items), page.Total)
		return c.JSON(http.StatusOK, items)
	}
}

// location is the URL path of a resource, for Location headers.
func (h *handlers) location(resource string, id any) string {
	return fmt.Sprintf("%s/%s/%v", h.base, resource, id)
}

// created answers 201 with body and a Location header.
func (h *handlers) created(c echo.Context, resource string, id any, body any) error {
	c.Response().Header().Set(echo.HeaderLocation, h.location(resource, id))
	return c.JSON(http.StatusCreated, body)
}

// param is a path parameter, trimmed.
func param(c echo.Context, name string) string { return strings.TrimSpace(c.Param(name)) }

// intID reads the numeric id of a path: a whole number, or resolve turns
// another reference (a uuid) into the id; a reference that is neither is
// a 404 from resolve.
func intID(c echo.Context, resolve func(ctx context.Context, ref string) (int64, error)) (int64, error) {
	ref := param(c, "id")
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return id, nil
	}
	if ref == "" {
		return 0, core.Errorf(core.KindInvalidArgument, "the id is empty").WithDetail("parameter", "id")
	}
	return resolve(c.Request().Context(), ref)
}

// idRef is the reference of a numeric id.
func idRef(id int64) string { return strconv.FormatInt(id, 10) }
