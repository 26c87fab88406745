package service

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/dispatcher"
)

// Workers are the worker operations. Every node of a cluster writes its
// workers to the store's workers table (the composition root's heartbeat),
// so the lists cover every node; this node's workers are taken from the
// pool itself, which is fresher than its last heartbeat.
type Workers struct{ s *Service }

// live is this node's workers by id, from the pool.
func (w *Workers) live() map[string]core.Worker {
	if w.s.d.Pool == nil {
		return nil
	}
	ws := w.s.d.Pool.Workers()
	out := make(map[string]core.Worker, len(ws))
	for _, x := range ws {
		out[x.ID] = x
	}
	return out
}

// List returns one page of the workers of every node. Filter and sort
// fields are those of sqlstore.WorkerRepo.List (id, node, pid, status,
// current_execution_id, executions_total, failures_total, restarts,
// memory_bytes, started_at, last_heartbeat_at; q searches id and node);
// the default order is node, id. Filters and order apply to the stored
// heartbeat; the workers of this node are then shown as the pool has them
// now.
func (w *Workers) List(ctx context.Context, q core.ListQuery) (core.Page[core.Worker], error) {
	if err := q.Normalize(); err != nil {
		return core.Page[core.Worker]{}, err
	}
	page, err := w.s.d.Store.Workers().List(ctx, q)
	if err != nil {
		return core.Page[core.Worker]{}, err
	}
	if live := w.live(); len(live) > 0 {
		for i, x := range page.Items {
			if l, ok := live[x.ID]; ok {
				page.Items[i] = l
			}
		}
	}
	return page, nil
}

// Get returns one worker of any node by id.
func (w *Workers) Get(ctx context.Context, id string) (core.Worker, error) {
	_, _, id, err := parseRef("worker", "id", id)
	if err != nil {
		return core.Worker{}, err
	}
	if l, ok := w.live()[id]; ok {
		return l, nil
	}
	return w.s.d.Store.Workers().Get(ctx, id)
}

// All returns every worker of every node (stored), this node's as the pool
// has them now, ordered by node and id.
func (w *Workers) All(ctx context.Context) ([]core.Worker, error) {
	live := w.live()
	var out []core.Worker
	seen := make(map[string]bool, len(live))
	for off := 0; ; off += core.MaxPageSize {
		page, err := w.s.d.Store.Workers().List(ctx, core.ListQuery{Offset: off, Limit: core.MaxPageSize})
		if err != nil {
			return nil, err
		}
		for _, x := range page.Items {
			if l, ok := live[x.ID]; ok {
				x = l
			}
			seen[x.ID] = true
			out = append(out, x)
		}
		if len(page.Items) < core.MaxPageSize {
			break
		}
	}
	// Workers of this node not in the table yet (no heartbeat written).
	var extra []core.Worker
	for id, l := range live {
		if !seen[id] {
			extra = append(extra, l)
		}
	}
	if len(extra) > 0 {
		out = append(out, extra...)
		slices.SortFunc(out, func(a, b core.Worker) int {
			return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.ID, b.ID))
		})
	}
	return out, nil
}

// WorkerStats summarise the workers of every node and this node's
// dispatcher (GET /workers/stats).
type WorkerStats struct {
	Total           int                       `json:"total"`
	ByStatus        map[core.WorkerStatus]int `json:"by_status"`
	ByNode          map[string]int            `json:"by_node"`
	Nodes           int                       `json:"nodes"`
	ExecutionsTotal int64                     `json:"executions_total"`
	FailuresTotal   int64                     `json:"failures_total"`
	Restarts        int                       `json:"restarts"`
	MemoryBytes     int64                     `json:"memory_bytes"`
	Dispatcher      dispatcher.Stats          `json:"dispatcher"`
	At              time.Time                 `json:"at"`
}

// Stats summarises the workers of every node.
func (w *Workers) Stats(ctx context.Context) (WorkerStats, error) {
	ws, err := w.All(ctx)
	if err != nil {
		return WorkerStats{}, err
	}
	st := WorkerStats{ByStatus: map[core.WorkerStatus]int{}, ByNode: map[string]int{},
		Dispatcher: w.s.d.Dispatcher.Stats(), At: time.Now().UTC()}
	for _, s := range core.WorkerStatuses {
		st.ByStatus[s] = 0
	}
	for _, x := range ws {
		st.Total++
		st.ByStatus[x.Status]++
		st.ByNode[x.Node]++
		st.ExecutionsTotal += x.ExecutionsTotal
		st.FailuresTotal += x.FailuresTotal
		st.Restarts += x.Restarts
		st.MemoryBytes += x.MemoryBytes
	}
	st.Nodes = len(st.ByNode)
	return st, nil
}
