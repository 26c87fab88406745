package command

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/config"
)

func newConfigValidateCmd(app *App) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a configuration file and the RATCHET_* environment",
		Long: `Loads the configuration as the server would: the file (FILE, "-" for stdin, or
--config), then the RATCHET_* environment. Unknown keys are reported as warnings on
stderr; an invalid value fails (exit 1) with the key, the value and what is allowed.`,
		Example: `  ratchet config validate --config ratchet.yaml
  ratchet config validate --strict ratchet.yaml
  cat ratchet.yaml | ratchet config validate -`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts := config.LoadOptions{File: app.ConfigPath}
			if len(args) == 1 {
				opts.File = args[0]
			}
			if opts.File == "-" {
				data, err := io.ReadAll(app.Stdin)
				if err != nil {
					return fmt.Errorf("reading the configuration from stdin: %w", err)
				}
				opts = config.LoadOptions{File: "(stdin)", Data: data}
			}
			_, warnings, err := app.loadConfig(opts)
			if err != nil {
				return err
			}
			if strict && len(warnings) > 0 {
				return fmt.Errorf("configuration has %d warning(s) and --strict is set", len(warnings))
			}
			fmt.Fprintln(app.Stdout, "configuration is valid")
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings (unknown keys, unset variables) as errors")
	return cmd
}
