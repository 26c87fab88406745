package command

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/cli/internal/buildinfo"
)

func newVersionCmd(app *App) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		RunE: func(*cobra.Command, []string) error {
			info := buildinfo.Get()
			switch output {
			case "text":
				commit := info.Commit
				if info.Modified {
					commit += " (modified)"
				}
				fmt.Fprintf(app.Stdout, "ratchet %s\n", info.Version)
				fmt.Fprintf(app.Stdout, "  commit:   %s\n", commit)
				if info.BuildTime != "" {
					fmt.Fprintf(app.Stdout, "  built:    %s\n", info.BuildTime)
				}
				fmt.Fprintf(app.Stdout, "  go:       %s\n", info.GoVersion)
				fmt.Fprintf(app.Stdout, "  platform: %s\n", info.Platform)
				return nil
			case "json":
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			return NewUsageError("invalid --output %q: allowed are text and json", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
