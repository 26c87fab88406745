// Package examples ships the example tasks inside the ratchet binary, so
// `ratchet serve` has tasks to run on a fresh machine with no
// registry.sources configured. The same folders are browsable in the
// repository as docs/examples/tasks.
package examples

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed tasks
var files embed.FS

// Tasks is the example task folders, one per task, at the root of the FS.
func Tasks() fs.FS {
	sub, err := fs.Sub(files, "tasks")
	if err != nil {
		panic(fmt.Sprintf("examples: embedded tasks folder missing: %v", err))
	}
	return sub
}

// Extract writes the example tasks under dir (created if needed) and
// returns dir, ready to be a registry source. Files are rewritten each
// time, so an upgraded binary serves its own examples.
func Extract(dir string) (string, error) {
	err := fs.WalkDir(Tasks(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(Tasks(), p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("extracting the example tasks to %s: %w", dir, err)
	}
	return dir, nil
}
