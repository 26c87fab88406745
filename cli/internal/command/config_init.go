package command

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/config"
)

// defaultConfigFile is where config init writes without --path.
const defaultConfigFile = "ratchet.yaml"

func newConfigInitCmd(app *App) *cobra.Command {
	var (
		path  string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented configuration file holding the defaults",
		Long: `Writes every configuration key with its default value and an explanation, to
edit and pass with --config. An existing file is kept unless --force is given.
"--path -" writes to stdout. The file is created readable by its owner only,
as it may come to hold API keys and passwords.`,
		Example: `  ratchet config init
  ratchet config init --path /etc/ratchet/config.yaml --force`,
		RunE: func(*cobra.Command, []string) error {
			data := config.DefaultYAML()
			if path == "-" {
				_, err := app.Stdout.Write(data)
				return err
			}
			if err := writeNewFile(path, data, force); err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "wrote the default configuration to %s\n", path)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", defaultConfigFile, `file to write ("-" for stdout)`)
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the file if it exists")
	return cmd
}

// writeNewFile writes data to path, creating its directory. Without force
// an existing file is an error, checked atomically with O_EXCL.
func writeNewFile(path string, data []byte, force bool) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; use --force to overwrite it", path)
	}
	if err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
