package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/registry"
	"github.com/ratchet-go/ratchet/lib/service"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// newRegistry builds the task registry (registry.sources, loaded at start
// and watched) and the adapter the service uploads tasks through.
func newRegistry(cfg *config.Config, store *sqlstore.Store, log *slog.Logger) (*registry.Registry, service.Registry, error) {
	r, err := registry.New(store, registry.Config{Sources: registry.SourcesFromConfig(cfg.Registry)}, log)
	if err != nil {
		return nil, nil, fmt.Errorf("task registry: %w", err)
	}
	return r, uploads{r}, nil
}

// uploads adapts the registry to service.Registry.
type uploads struct{ r *registry.Registry }

var _ service.Registry = uploads{}

func files(up service.TaskUpload) (map[string][]byte, error) {
	if len(up.Zip) == 0 {
		return up.Files, nil
	}
	f, err := taskfmt.ReadZip(up.Zip)
	if err != nil {
		return nil, core.WrapError(core.KindInvalidArgument, err, "reading the uploaded zip")
	}
	return f, nil
}

func (u uploads) CreateTask(ctx context.Context, up service.TaskUpload) (core.Task, error) {
	f, err := files(up)
	if err != nil {
		return core.Task{}, err
	}
	return u.r.CreateFromFiles(ctx, up.Name, f)
}

func (u uploads) UpdateTask(ctx context.Context, id int64, up service.TaskUpload) (core.Task, error) {
	f, err := files(up)
	if err != nil {
		return core.Task{}, err
	}
	return u.r.UpdateFromFiles(ctx, strconv.FormatInt(id, 10), f)
}

func (u uploads) DeleteTask(ctx context.Context, id int64) error {
	return u.r.Delete(ctx, strconv.FormatInt(id, 10))
}
