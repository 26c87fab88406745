package command

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/runtime/scaffold"
)

func newGenerateCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate project files",
	}
	cmd.AddCommand(newGenerateTaskCmd(app))
	return cmd
}

func newGenerateTaskCmd(app *App) *cobra.Command {
	var opts scaffold.Options
	var path string
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Scaffold a task folder whose tests pass as generated",
		Example: `  ratchet generate task --path tasks/greet --description "Greets someone"
  ratchet test --from-fs tasks/greet`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			files, err := scaffold.Generate(path, opts)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintf(app.Stdout, "created %s\n", f)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "folder to create the task in (required)")
	cmd.Flags().StringVar(&opts.Name, "name", "", "task name (default: the folder's name)")
	cmd.Flags().StringVar(&opts.Description, "description", "", "task description")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "write into a folder that is not empty")
	_ = cmd.MarkFlagRequired("path")
	return cmd
}
