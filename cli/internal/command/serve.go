package command

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/cli/internal/buildinfo"
	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/examples"
)

// Shutdown budget: the HTTP server drains its requests first, then the
// core finishes or requeues running jobs.
const (
	httpDrainTimeout = 10 * time.Second
	coreDrainTimeout = 30 * time.Second
)

func newServeCmd(a *App) *cobra.Command {
	var (
		bind string
		port int
		node string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Ratchet server: REST API, worker pool, job queue, scheduler",
		Long: `Run the server on the configured database (default sqlite://ratchet.db,
migrated on start): it loads registry.sources (the bundled example tasks when
none is configured), starts the worker pool, the dispatcher and the scheduler,
and serves the REST API under /api/v1. SIGINT or SIGTERM stop it gracefully:
running jobs finish, or are requeued when they do not finish in time.`,
		Example: `  ratchet serve
  ratchet serve --config ratchet.yaml --port 9000
  RATCHET_DATABASE_URL=postgres://ratchet@db/ratchet ratchet serve --bind 0.0.0.0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.LoadConfig()
			if err != nil {
				return err
			}
			flags := cmd.Flags()
			if flags.Changed("bind") {
				cfg.Server.BindAddress = bind
			}
			if flags.Changed("port") {
				if port < 0 || port > 65535 {
					return NewUsageError("invalid --port %d: must be between 0 and 65535", port)
				}
				cfg.Server.Port = port
			}
			if err := a.ConfigureLogging(cfg); err != nil {
				return err
			}
			log := a.Logger()
			if len(cfg.Registry.Sources) == 0 {
				dir, err := extractExamples()
				if err != nil {
					return err
				}
				cfg.Registry.Sources = []config.RegistrySource{{Name: "examples", URI: dir}}
				log.Info("no registry.sources configured: serving the bundled example tasks", slog.String("path", dir))
			}
			return serve(cmd.Context(), cfg, log, node)
		},
	}
	cmd.Flags().StringVar(&bind, "bind", "", "address to listen on (overrides server.bind_address)")
	cmd.Flags().IntVar(&port, "port", 0, "port to listen on, 0 for any free port (overrides server.port)")
	cmd.Flags().StringVar(&node, "node", "", "this node's name in leases and worker ids (default: the host name)")
	return cmd
}

// serve runs the core and the HTTP server until ctx ends (a signal), then
// stops them in reverse order.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, node string) error {
	info := buildinfo.Get()
	core, err := app.New(cfg, app.Options{Logger: log, Node: node,
		Build: app.BuildInfo{Version: info.Version, Commit: info.Commit, BuildDate: info.BuildTime}})
	if err != nil {
		return err
	}
	if err := core.Start(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), coreDrainTimeout)
		defer cancel()
		_ = core.Stop(stopCtx)
		return fmt.Errorf("starting: %w", err)
	}
	httpServer, err := core.NewHTTPServer()
	if err == nil {
		err = httpServer.Start(ctx)
	}
	if err == nil {
		log.Info("ratchet is serving", slog.String("url", httpServer.URL()),
			slog.String("api", httpServer.URL()+"/api/v1"),
			slog.String("docs", httpServer.URL()+"/api/v1/docs"),
			slog.String("health", httpServer.URL()+"/health"))
		<-ctx.Done()
		log.Info("shutting down: draining requests and running jobs")
	}

	background := context.WithoutCancel(ctx)
	if httpServer != nil {
		httpCtx, cancel := context.WithTimeout(background, httpDrainTimeout)
		if stopErr := httpServer.Stop(httpCtx); stopErr != nil {
			log.Warn("stopping the HTTP server", slog.Any("error", stopErr))
		}
		cancel()
	}
	coreCtx, cancel := context.WithTimeout(background, coreDrainTimeout)
	defer cancel()
	if stopErr := core.Stop(coreCtx); stopErr != nil {
		log.Warn("stopping", slog.Any("error", stopErr))
	}
	if err != nil {
		return err
	}
	log.Info("ratchet stopped")
	return nil
}

// extractExamples writes the bundled example tasks to the user's cache
// folder (or the temporary folder) for the registry to load.
func extractExamples() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return examples.Extract(filepath.Join(base, "ratchet", "examples"))
}
