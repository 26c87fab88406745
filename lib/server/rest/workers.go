package rest

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
)

// workerPager and workerGetter are the worker operations the service may
// offer over every node's workers (the store's heartbeat table). Until it
// does, the lists are made here from this node's workers
// (service.Workers.List).
type workerPager interface {
	List(ctx context.Context, q core.ListQuery) (core.Page[core.Worker], error)
}

type workerGetter interface {
	Get(ctx context.Context, id string) (core.Worker, error)
}

// listWorkers is GET /workers.
func (h *handlers) listWorkers(c echo.Context) error {
	return listHandler(listquery.Workers, h.workerPage, apitypes.FromWorkers)(c)
}

func (h *handlers) workerPage(ctx context.Context, q core.ListQuery) (core.Page[core.Worker], error) {
	if p, ok := any(h.svc.Workers()).(workerPager); ok {
		return p.List(ctx, q)
	}
	ws, err := h.allWorkers(ctx)
	if err != nil {
		return core.Page[core.Worker]{}, err
	}
	return pageWorkers(ws, q)
}

// allWorkers lists the workers the service knows, unpaged.
func (h *handlers) allWorkers(ctx context.Context) ([]core.Worker, error) {
	if p, ok := any(h.svc.Workers()).(workerPager); ok {
		var out []core.Worker
		for off := 0; ; off += core.MaxPageSize {
			page, err := p.List(ctx, core.ListQuery{Offset: off, Limit: core.MaxPageSize})
			if err != nil {
				return nil, err
			}
			out = append(out, page.Items...)
			if len(page.Items) < core.MaxPageSize || len(out) >= page.Total {
				return out, nil
			}
		}
	}
	if l, ok := any(h.svc.Workers()).(interface {
		List(ctx context.Context) ([]core.Worker, error)
	}); ok {
		return l.List(ctx)
	}
	return nil, core.Errorf(core.KindServiceUnavailable, "the worker list is not available on this server")
}

// getWorker is GET /workers/{id}.
func (h *handlers) getWorker(c echo.Context) error {
	ctx := c.Request().Context()
	id := param(c, "id")
	if g, ok := any(h.svc.Workers()).(workerGetter); ok {
		w, err := g.Get(ctx, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, apitypes.FromWorker(w))
	}
	ws, err := h.allWorkers(ctx)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if w.ID == id {
			return c.JSON(http.StatusOK, apitypes.FromWorker(w))
		}
	}
	return core.Errorf(core.KindNotFound, "worker %q not found", id).WithDetail("id", id)
}

// getWorkerStats is GET /workers/stats.
func (h *handlers) getWorkerStats(c echo.Context) error {
	ws, err := h.allWorkers(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.NewWorkerStats(ws))
}

// pageWorkers applies a list query to workers in memory, with the
// semantics of the store's lists: filters, q over id and node, sort
// (default node, id), then the page.
func pageWorkers(ws []core.Worker, q core.ListQuery) (core.Page[core.Worker], error) {
	if err := q.Normalize(); err != nil {
		return core.Page[core.Worker]{}, err
	}
	var kept []core.Worker
	needle := strings.ToLower(strings.TrimSpace(q.Q))
outer:
	for _, w := range ws {
		if needle != "" && !strings.Contains(strings.ToLower(w.ID), needle) && !strings.Contains(strings.ToLower(w.Node), needle) {
			continue
		}
		for _, f := range q.Filters {
			ok, err := matchWorker(w, f)
			if err != nil {
				return core.Page[core.Worker]{}, err
			}
			if !ok {
				continue outer
			}
		}
		kept = append(kept, w)
	}
	sorts := q.Sort
	if len(sorts) == 0 {
		sorts = []core.SortField{{Field: "node"}, {Field: "id"}}
	}
	slices.SortStableFunc(kept, func(a, b core.Worker) int {
		for _, s := range sorts {
			c := compareValues(workerValue(a, s.Field), workerValue(b, s.Field))
			if s.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a.ID, b.ID)
	})
	page := core.Page[core.Worker]{Total: len(kept), Items: []core.Worker{}}
	if q.Offset < len(kept) {
		page.Items = kept[q.Offset:min(len(kept), q.Offset+q.Limit)]
	}
	return page, nil
}

// fieldValue is one field of a worker: a string, an int64, a time, or nil
// (null).
type fieldValue = any

func workerValue(w core.Worker, field string) fieldValue {
	switch field {
	case "id":
		return w.ID
	case "node":
		return w.Node
	case "pid":
		return int64(w.PID)
	case "status":
		return string(w.Status)
	case "current_execution_id":
		if w.CurrentExecutionID == nil {
			return nil
		}
		return *w.CurrentExecutionID
	case "executions_total":
		return w.ExecutionsTotal
	case "failures_total":
		return w.FailuresTotal
	case "restarts":
		return int64(w.Restarts)
	case "memory_bytes":
		return w.MemoryBytes
	case "started_at":
		return w.StartedAt
	case "last_heartbeat_at":
		if w.LastHeartbeatAt == nil {
			return nil
		}
		return *w.LastHeartbeatAt
	}
	return nil
}

// compareValues orders two values of one field; null sorts first.
func compareValues(a, b fieldValue) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case int64:
		return cmp.Compare(x, b.(int64))
	case time.Time:
		return x.Compare(b.(time.Time))
	}
	return 0
}

// parseLike reads a filter value as the type of sample.
func parseLike(sample fieldValue, field, raw string) (fieldValue, error) {
	raw = strings.TrimSpace(raw)
	switch sample.(type) {
	case int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, core.Errorf(core.KindInvalidArgument, "invalid value %q for %s: want an integer", raw, field).WithDetail("parameter", field)
		}
		return n, nil
	case time.Time:
		for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(l, raw); err == nil {
				return t, nil
			}
		}
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return time.Unix(n, 0).UTC(), nil
		}
		return nil, core.Errorf(core.KindInvalidArgument, "invalid value %q for %s: want an RFC 3339 time", raw, field).WithDetail("parameter", field)
	}
	return raw, nil
}

// sampleOf is a non-null value of a worker field's type.
func sampleOf(field string) fieldValue {
	switch field {
	case "id", "node", "status":
		return ""
	case "started_at", "last_heartbeat_at":
		return time.Time{}
	}
	return int64(0)
}

func matchWorker(w core.Worker, f core.Filter) (bool, error) {
	v := workerValue(w, f.Field)
	isNullValue := func(raw string) bool { return raw == "" || raw == "null" }
	eq := func(raw string) (bool, error) {
		if v == nil {
			return isNullValue(raw), nil
		}
		if isNullValue(raw) && sampleOf(f.Field) != "" {
			return false, nil
		}
		want, err := parseLike(v, f.Field, raw)
		if err != nil {
			return false, err
		}
		if s, ok := v.(string); ok {
			if f.Field == "status" {
				return strings.EqualFold(s, want.(string)), nil
			}
			return s == want.(string), nil
		}
		return compareValues(v, want) == 0, nil
	}
	switch f.Op {
	case core.OpEq:
		return eq(f.Values[0])
	case core.OpNe:
		ok, err := eq(f.Values[0])
		return !ok, err
	case core.OpIn:
		for _, raw := range f.Values {
			if ok, err := eq(raw); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	case core.OpLike:
		s, ok := v.(string)
		return ok && strings.Contains(strings.ToLower(s), strings.ToLower(f.Values[0])), nil
	case core.OpGte, core.OpLte:
		if v == nil {
			return false, nil
		}
		want, err := parseLike(v, f.Field, f.Values[0])
		if err != nil {
			return false, err
		}
		c := compareValues(v, want)
		if f.Op == core.OpGte {
			return c >= 0, nil
		}
		return c <= 0, nil
	}
	return false, core.Errorf(core.KindInvalidArgument, "unknown filter operator %q", f.Op)
}
