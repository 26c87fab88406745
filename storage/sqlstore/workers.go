package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/ratchet-go/ratchet/core"
)

// WorkerRepo stores the nodes of a cluster and their worker pools, so that
// any node can answer GET /workers for all of them.
type WorkerRepo struct{ s *Store }

// Workers returns the worker repository.
func (s *Store) Workers() WorkerRepo { return WorkerRepo{s} }

// Node is one ratchet serve process sharing the database.
type Node struct {
	Name            string    `json:"name"`
	Hostname        string    `json:"hostname,omitempty"`
	Version         string    `json:"version,omitempty"`
	StartedAt       time.Time `json:"started_at"`
	LastHeartbeatAt time.Time `json:"last_heartbeat_at"`
}

var workerResource = &resource{
	name: "workers",
	fields: map[string]field{
		"id": textField("id"), "node": textField("node"), "pid": idField("pid"),
		"status":               enumField("status", core.ParseWorkerStatus),
		"current_execution_id": refField("current_execution_id"),
		"executions_total":     idField("executions_total"), "failures_total": idField("failures_total"),
		"restarts": idField("restarts"), "memory_bytes": idField("memory_bytes"),
		"started_at": timeField("started_at"), "last_heartbeat_at": optTimeField("last_heartbeat_at"),
	},
	search:      []string{"id", "node"},
	defaultSort: []core.SortField{{Field: "node"}, {Field: "id"}},
}

// Heartbeat records that node is alive at at and replaces its worker list
// with workers (each worker's Node is set to node; workers no longer in
// the list are removed). Worker ids must be unique across nodes: include
// the node's name in them.
func (r WorkerRepo) Heartbeat(ctx context.Context, node Node, workers []core.Worker, at time.Time) error {
	if strings.TrimSpace(node.Name) == "" || checkText("node", node.Name, node.Hostname, node.Version) != nil {
		return core.Errorf(core.KindInvalidArgument, "a heartbeat needs the node's name")
	}
	at = truncTime(at)
	if node.StartedAt.IsZero() {
		node.StartedAt = at
	}
	return r.s.RunInTx(ctx, func(ctx context.Context, tx *Store) error {
		nm := &nodeModel{Name: node.Name, Hostname: node.Hostname, Version: node.Version,
			StartedAt: truncTime(node.StartedAt), LastHeartbeatAt: at}
		if _, err := tx.w.NewInsert().Model(nm).
			On("CONFLICT (name) DO UPDATE").
			Set("hostname = EXCLUDED.hostname, version = EXCLUDED.version, started_at = EXCLUDED.started_at, last_heartbeat_at = EXCLUDED.last_heartbeat_at").
			Exec(ctx); err != nil {
			return mapError(err)
		}
		ids := make([]string, 0, len(workers))
		if len(workers) > 0 {
			ms := make([]workerModel, len(workers))
			for i, w := range workers {
				if w.ID == "" || checkText("worker id", w.ID) != nil {
					return core.Errorf(core.KindInvalidArgument, "worker %d of node %s has no id", i, node.Name)
				}
				if w.Status == "" {
					w.Status = core.WorkerIdle
				}
				hb := truncTimePtr(w.LastHeartbeatAt)
				if hb == nil {
					hb = &at
				}
				ms[i] = workerModel{ID: w.ID, Node: node.Name, PID: w.PID, Status: string(w.Status),
					CurrentExecutionID: w.CurrentExecutionID, ExecutionsTotal: w.ExecutionsTotal,
					FailuresTotal: w.FailuresTotal, Restarts: w.Restarts, MemoryBytes: w.MemoryBytes,
					StartedAt: truncTime(w.StartedAt), LastHeartbeatAt: hb}
				ids = append(ids, w.ID)
			}
			if _, err := tx.w.NewInsert().Model(&ms).
				On("CONFLICT (id) DO UPDATE").
				Set("node = EXCLUDED.node, pid = EXCLUDED.pid, status = EXCLUDED.status, " +
					"current_execution_id = EXCLUDED.current_execution_id, executions_total = EXCLUDED.executions_total, " +
					"failures_total = EXCLUDED.failures_total, restarts = EXCLUDED.restarts, " +
					"memory_bytes = EXCLUDED.memory_bytes, started_at = EXCLUDED.started_at, " +
					"last_heartbeat_at = EXCLUDED.last_heartbeat_at").
				Exec(ctx); err != nil {
				return mapError(err)
			}
		}
		del := tx.w.NewDelete().Model((*workerModel)(nil)).Where("node = ?", node.Name)
		if len(ids) > 0 {
			del.Where("id NOT IN (?)", bun.List(ids))
		}
		_, err := del.Exec(ctx)
		return mapError(err)
	})
}

// Get returns one worker.
func (r WorkerRepo) Get(ctx context.Context, id string) (core.Worker, error) {
	var m workerModel
	if err := r.s.r.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return core.Worker{}, notFound(err, "worker", id)
	}
	return workerFromModel(&m), nil
}

// List returns one page of workers of every node. Filter and sort fields:
// id, node, pid, status, current_execution_id, executions_total,
// failures_total, restarts, memory_bytes, started_at, last_heartbeat_at; q
// searches id and node.
func (r WorkerRepo) List(ctx context.Context, q core.ListQuery) (core.Page[core.Worker], error) {
	rows, total, err := list[workerModel](ctx, r.s, workerResource, q, "")
	if err != nil {
		return core.Page[core.Worker]{}, err
	}
	items := make([]core.Worker, len(rows))
	for i := range rows {
		items[i] = workerFromModel(&rows[i])
	}
	return core.Page[core.Worker]{Items: items, Total: total}, nil
}

// Nodes lists the nodes, by name.
func (r WorkerRepo) Nodes(ctx context.Context) ([]Node, error) {
	var ms []nodeModel
	if err := r.s.r.NewSelect().Model(&ms).Order("name").Scan(ctx); err != nil {
		return nil, mapError(err)
	}
	out := make([]Node, len(ms))
	for i, m := range ms {
		out[i] = Node{Name: m.Name, Hostname: m.Hostname, Version: m.Version,
			StartedAt: m.StartedAt.UTC(), LastHeartbeatAt: m.LastHeartbeatAt.UTC()}
	}
	return out, nil
}

// RemoveNode deletes a node and its workers (on a clean shutdown).
func (r WorkerRepo) RemoveNode(ctx context.Context, name string) error {
	res, err := r.s.w.NewDelete().Model((*nodeModel)(nil)).Where("name = ?", name).Exec(ctx)
	return affected(res, err, "node", name)
}

// PruneNodes deletes nodes (and their workers) whose last heartbeat is
// before olderThan, and returns their names.
func (r WorkerRepo) PruneNodes(ctx context.Context, olderThan time.Time) ([]string, error) {
	var names []string
	err := r.s.w.NewDelete().Model((*nodeModel)(nil)).
		Where("last_heartbeat_at < ?", truncTime(olderThan)).Returning("name").Scan(ctx, &names)
	if err != nil && !isNoRows(err) {
		return nil, mapError(err)
	}
	return names, nil
}
