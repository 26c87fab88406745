package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/plugin/host"
)

func newPluginCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Inspect the plugins of plugins.dir",
	}
	cmd.AddCommand(newPluginListCmd(app))
	return cmd
}

func newPluginListCmd(app *App) *cobra.Command {
	var dir, output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Start the plugins of plugins.dir briefly and list them with their tasks",
		Long: `Discovers the executables in plugins.dir (or --dir), starts each one as a
plugin, prints its name, version, path, state and tasks, then stops them all.
A plugin that fails to start is listed with its error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output = strings.ToLower(strings.TrimSpace(output))
			if output != outputTable && output != outputJSON {
				return NewUsageError("invalid --output %q: allowed are table and json", output)
			}
			if dir == "" {
				cfg, err := app.LoadConfig()
				if err != nil {
					return err
				}
				dir = cfg.Plugins.Dir
			}
			if dir == "" {
				return NewUsageError("no plugins dir: set plugins.dir or give --dir")
			}
			if _, err := os.Stat(dir); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("plugins dir %s does not exist", dir)
				}
				return fmt.Errorf("plugins dir: %w", err)
			}
			plugins, err := listPlugins(cmd.Context(), app, dir)
			if err != nil {
				return err
			}
			if output == outputJSON {
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(plugins)
			}
			if len(plugins) == 0 {
				fmt.Fprintf(app.Stdout, "no plugins in %s\n", dir)
				return nil
			}
			t := newTable(app.Stdout)
			t.row("NAME", "VERSION", "STATE", "TASKS", "PATH", "ERROR")
			for _, p := range plugins {
				t.row(p.Name, p.Version, string(p.State), strings.Join(p.Tasks, ","), p.Path, p.LastError)
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "plugins directory (default plugins.dir of the configuration)")
	cmd.Flags().StringVarP(&output, "output", "o", outputTable, "output format: table or json")
	return cmd
}

// listPlugins starts the plugins of dir, takes their status once each has
// started or failed its first start, and stops them.
func listPlugins(ctx context.Context, app *App, dir string) ([]host.Status, error) {
	m, err := host.New(host.Config{
		Dir:                 dir,
		Logger:              app.Logger(),
		HealthCheckInterval: -1,
		// Long enough that no restart happens while the list is taken.
		RestartDelay: time.Minute,
	})
	if err != nil {
		return nil, err
	}
	startErr := m.Start(ctx)
	plugins := m.Plugins()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	stopErr := m.Stop(stopCtx)
	if startErr != nil {
		return nil, startErr
	}
	if stopErr != nil {
		return nil, stopErr
	}
	if plugins == nil {
		plugins = []host.Status{}
	}
	return plugins, nil
}
