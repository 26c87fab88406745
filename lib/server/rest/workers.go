package rest

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
)

// listWorkers is GET /workers: the workers of every node.
func (h *handlers) listWorkers(c echo.Context) error {
	return listHandler(listquery.Workers, h.svc.Workers().List, apitypes.FromWorkers)(c)
}

// getWorker is GET /workers/{id}, a worker of any node.
func (h *handlers) getWorker(c echo.Context) error {
	w, err := h.svc.Workers().Get(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromWorker(w))
}

// getWorkerStats is GET /workers/stats, over every node.
func (h *handlers) getWorkerStats(c echo.Context) error {
	st, err := h.svc.Workers().Stats(c.Request().Context())
	if err != nil {
		return err
	}
	out := apitypes.WorkerStats{
		Total: st.Total, ByStatus: make(map[string]int, len(st.ByStatus)), ByNode: st.ByNode,
		Busy: st.ByStatus[core.WorkerBusy], Idle: st.ByStatus[core.WorkerIdle],
		ExecutionsTotal: st.ExecutionsTotal, FailuresTotal: st.FailuresTotal,
		RestartsTotal: int64(st.Restarts), MemoryBytesTotal: st.MemoryBytes, Nodes: st.Nodes,
	}
	for s, n := range st.ByStatus {
		out.ByStatus[string(s)] = n
	}
	return c.JSON(http.StatusOK, out)
}
