package command

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ratchet-go/ratchet/cli/internal/buildinfo"
	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core/logging"
	libapp "github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/examples"
)

// Shutdown budget of the --local server: a benchmark leaves no work worth
// waiting for (enqueue mode leaves queued jobs behind on purpose).
const (
	localBenchHTTPStop = 5 * time.Second
	localBenchCoreStop = 10 * time.Second
)

// localServer is the server bench --local runs in this process: the
// configuration's settings on a temporary SQLite database, with the
// bundled examples unless registry.sources names other tasks, on a free
// loopback port, without a rate limit or auth.
type localServer struct {
	core    *libapp.App
	http    *libapp.HTTPServer
	dir     string
	url     string
	workers int
}

// startLocalServer starts the --local server; jobs sizes the queue bound.
func startLocalServer(ctx context.Context, app *App, jobs int) (ls *localServer, err error) {
	cfg, err := app.LoadConfig()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ratchet-bench-")
	if err != nil {
		return nil, fmt.Errorf("creating the benchmark's folder: %w", err)
	}
	ls = &localServer{dir: dir}
	defer func() {
		if err != nil {
			ls.stop(app)
		}
	}()
	cfg.Server.Database.URL = "sqlite://" + filepath.Join(dir, "bench.db")
	if len(cfg.Registry.Sources) == 0 {
		tasks, err := examples.Extract(filepath.Join(dir, "tasks"))
		if err != nil {
			return nil, fmt.Errorf("extracting the example tasks: %w", err)
		}
		cfg.Registry.Sources = []config.RegistrySource{{Name: "examples", URI: tasks}}
	}
	cfg.Server.BindAddress, cfg.Server.Port = "127.0.0.1", 0
	cfg.Server.RateLimit.Enabled = false
	cfg.Server.Auth.Enabled = false
	cfg.Output.GlobalDestinations = nil
	if need := 2*jobs + 1000; cfg.Server.JobQueue.MaxQueueSize < need {
		cfg.Server.JobQueue.MaxQueueSize = need
	}

	// The server's own logs would drown the progress lines: warnings only,
	// unless --log-level asks for more.
	log := app.Logger()
	if app.LogLevel == "" {
		log = slog.New(logging.NewHandler(app.Stderr, logging.FormatText, slog.LevelWarn))
	}
	info := buildinfo.Get()
	ls.core, err = libapp.New(cfg, libapp.Options{Logger: log, Node: "bench",
		Build: libapp.BuildInfo{Version: info.Version, Commit: info.Commit, BuildDate: info.BuildTime}})
	if err != nil {
		return nil, fmt.Errorf("building the local server: %w", err)
	}
	if err := ls.core.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the local server: %w", err)
	}
	if ls.http, err = ls.core.NewHTTPServer(); err != nil {
		return nil, fmt.Errorf("building the local HTTP server: %w", err)
	}
	if err := ls.http.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the local HTTP server: %w", err)
	}
	ls.url = ls.http.URL()
	ls.workers = len(ls.core.Pool().Workers())
	return ls, nil
}

// stop stops the server and removes its folder. It is safe on a server
// that did not start completely.
func (ls *localServer) stop(app *App) {
	background := context.Background()
	if ls.http != nil {
		ctx, cancel := context.WithTimeout(background, localBenchHTTPStop)
		if err := ls.http.Stop(ctx); err != nil {
			fmt.Fprintf(app.Stderr, "warning: stopping the local HTTP server: %v\n", err)
		}
		cancel()
	}
	if ls.core != nil {
		ctx, cancel := context.WithTimeout(background, localBenchCoreStop)
		if err := ls.core.Stop(ctx); err != nil {
			fmt.Fprintf(app.Stderr, "warning: stopping the local server: %v\n", err)
		}
		cancel()
	}
	if err := os.RemoveAll(ls.dir); err != nil {
		fmt.Fprintf(app.Stderr, "warning: removing %s: %v\n", ls.dir, err)
	}
}
