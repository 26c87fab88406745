package command

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

func newDBCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the database schema (server.database.url)",
	}
	cmd.AddCommand(newDBMigrateCmd(app), newDBStatusCmd(app), newDBRollbackCmd(app))
	return cmd
}

// openStore opens the configured database without migrating it.
func openStore(ctx context.Context, app *App, cfg *config.Config) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, cfg.Server.Database.URL, sqlstore.Options{
		MaxConnections:    cfg.Server.Database.MaxConnections,
		ConnectionTimeout: cfg.Server.Database.ConnectionTimeout,
		Logger:            app.Logger(),
	})
	if err != nil {
		return nil, fmt.Errorf("opening the database %s: %w", config.RedactURL(cfg.Server.Database.URL), err)
	}
	return store, nil
}

// withStore loads the configuration, opens its database (without
// migrating) and runs fn with both.
func withStore(cmd *cobra.Command, app *App, fn func(*config.Config, *sqlstore.Store) error) error {
	cfg, err := app.LoadConfig()
	if err != nil {
		return err
	}
	store, err := openStore(cmd.Context(), app, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(cfg, store)
}

func newDBMigrateCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, app, func(cfg *config.Config, store *sqlstore.Store) error {
				applied, err := store.Migrate(cmd.Context())
				if err != nil {
					return fmt.Errorf("migrating: %w", err)
				}
				if len(applied) == 0 {
					fmt.Fprintln(app.Stdout, "database is up to date")
				}
				for _, name := range applied {
					fmt.Fprintf(app.Stdout, "applied %s\n", name)
				}
				return nil
			})
		},
	}
}

func newDBRollbackCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "rollback",
		Short: "Roll back the last group of applied migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, app, func(cfg *config.Config, store *sqlstore.Store) error {
				rolled, err := store.Rollback(cmd.Context())
				if err != nil {
					return fmt.Errorf("rolling back: %w", err)
				}
				if len(rolled) == 0 {
					fmt.Fprintln(app.Stdout, "nothing to roll back")
				}
				for _, name := range rolled {
					fmt.Fprintf(app.Stdout, "rolled back %s\n", name)
				}
				return nil
			})
		},
	}
}

func newDBStatusCmd(app *App) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List applied and pending migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output = strings.ToLower(output)
			if output != "text" && output != "json" {
				return NewUsageError("invalid --output %q: allowed are text and json", output)
			}
			return withStore(cmd, app, func(cfg *config.Config, store *sqlstore.Store) error {
				st, err := store.MigrationStatus(cmd.Context())
				if err != nil {
					return fmt.Errorf("reading migration status: %w", err)
				}
				if output == "json" {
					enc := json.NewEncoder(app.Stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(st)
				}
				fmt.Fprintf(app.Stdout, "database: %s\n", config.RedactURL(cfg.Server.Database.URL))
				for _, n := range st.Applied {
					fmt.Fprintf(app.Stdout, "  applied  %s\n", n)
				}
				for _, n := range st.Pending {
					fmt.Fprintf(app.Stdout, "  pending  %s\n", n)
				}
				fmt.Fprintf(app.Stdout, "%d applied, %d pending\n", len(st.Applied), len(st.Pending))
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
