package command

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/lib/server/apikey"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

func newAPIKeyCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Manage the API keys stored in the database (server.auth)",
		Long: `API keys authenticate REST and GraphQL requests (Authorization: Bearer <key> or
X-API-Key) when server.auth.enabled is on. Only a SHA-256 hash of each key is
stored: the key itself is printed once, by create.

Roles: viewer (read only), operator (everything but key management), admin.`,
	}
	cmd.AddCommand(newAPIKeyCreateCmd(app), newAPIKeyListCmd(app), newAPIKeyRevokeCmd(app))
	return cmd
}

func newAPIKeyCreateCmd(app *App) *cobra.Command {
	var name, role string
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Create a key and print it (it is not shown again)",
		Example: `  ratchet apikey create --name ci --role operator`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, ok := apikey.ParseRole(role)
			if !ok {
				return NewUsageError("invalid --role %q: allowed are admin, operator and viewer", role)
			}
			if strings.TrimSpace(name) == "" {
				return NewUsageError("--name must not be empty")
			}
			cfg, err := app.LoadConfig()
			if err != nil {
				return err
			}
			store, err := openMigratedStore(cmd, app, cfg)
			if err != nil {
				return err
			}
			defer store.Close()
			secret, hash, prefix := apikey.GenerateAPIKey()
			k, err := store.APIKeys().Create(cmd.Context(), sqlstore.APIKey{Name: name, Hash: hash, Prefix: prefix, Role: string(r)})
			if err != nil {
				return fmt.Errorf("storing the key: %w", err)
			}
			fmt.Fprintf(app.Stderr, "created key %d (%s, role %s); store it now, it is not shown again:\n", k.ID, k.Name, k.Role)
			fmt.Fprintln(app.Stdout, secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "what the key is for (required)")
	cmd.Flags().StringVar(&role, "role", "operator", "admin, operator or viewer")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newAPIKeyListCmd(app *App) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List keys (prefix, role, last use; never the keys themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return NewUsageError("invalid --output %q: allowed are table and json", output)
			}
			cfg, err := app.LoadConfig()
			if err != nil {
				return err
			}
			store, err := openMigratedStore(cmd, app, cfg)
			if err != nil {
				return err
			}
			defer store.Close()
			keys, err := store.APIKeys().List(cmd.Context())
			if err != nil {
				return err
			}
			if output == "json" {
				out := make([]apiKeyJSON, len(keys))
				for i, k := range keys {
					out[i] = apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Role: k.Role,
						CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
				}
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tROLE\tCREATED\tLAST USED\tSTATUS")
			for _, k := range keys {
				status := "active"
				if !k.Active() {
					status = "revoked"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.Role,
					k.CreatedAt.Format(time.RFC3339), timeOrDash(k.LastUsedAt), status)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return cmd
}

// apiKeyJSON is a key as `apikey list -o json` shows it: every field
// present, null when unset (a key never used has last_used_at null).
type apiKeyJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func newAPIKeyRevokeCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key: requests using it are refused from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return NewUsageError("invalid key id %q: give the ID shown by 'ratchet apikey list'", args[0])
			}
			cfg, err := app.LoadConfig()
			if err != nil {
				return err
			}
			store, err := openMigratedStore(cmd, app, cfg)
			if err != nil {
				return err
			}
			defer store.Close()
			if err := store.APIKeys().Revoke(cmd.Context(), id, time.Now().UTC()); err != nil {
				return fmt.Errorf("revoking key %d: %w", id, err)
			}
			fmt.Fprintf(app.Stdout, "revoked key %d\n", id)
			return nil
		},
	}
}

// openMigratedStore opens the database and applies pending migrations, so
// key management works on a database the server has not started on yet.
func openMigratedStore(cmd *cobra.Command, app *App, cfg *config.Config) (*sqlstore.Store, error) {
	store, err := openStore(cmd.Context(), app, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(cmd.Context()); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrating: %w", err)
	}
	return store, nil
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
