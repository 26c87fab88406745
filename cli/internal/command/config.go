package command

import "github.com/spf13/cobra"

func newConfigCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show, validate or create the configuration",
		Long: `The configuration comes from the defaults, then the YAML file given with --config,
then RATCHET_* environment variables (RATCHET_SERVER_PORT, RATCHET_DATABASE_URL, ...).`,
	}
	cmd.AddCommand(newConfigShowCmd(app))
	cmd.AddCommand(newConfigValidateCmd(app))
	cmd.AddCommand(newConfigInitCmd(app))
	return cmd
}
