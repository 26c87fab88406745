package command

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/config"
)

func newConfigShowCmd(app *App) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration, secrets redacted",
		Example: `  ratchet config show --config ratchet.yaml
  RATCHET_SERVER_PORT=3000 ratchet config show --format json`,
		RunE: func(*cobra.Command, []string) error {
			format = strings.ToLower(format)
			if format != "yaml" && format != "json" {
				return NewUsageError("invalid --format %q: allowed are yaml and json", format)
			}
			cfg, err := app.LoadConfig()
			if err != nil {
				return err
			}
			out, err := config.Render(cfg, format)
			if err != nil {
				return err
			}
			_, err = app.Stdout.Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "yaml", "output format: yaml or json")
	return cmd
}
