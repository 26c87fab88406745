package host

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Candidate is an executable that may be a plugin.
type Candidate struct {
	// Name is the file name (without .exe); the plugin's own name
	// (from Describe) replaces it once the plugin has started.
	Name string `json:"name"`
	// Path is the executable's absolute path.
	Path string `json:"path"`
}

// Discover lists the executables directly in dir (plugins.dir), sorted by
// name: regular files (symbolic links followed) with an execute bit, or
// with the .exe extension on Windows. Hidden files, directories and other
// files are skipped. A dir that does not exist is an error that matches
// fs.ErrNotExist.
func Discover(dir string) ([]Candidate, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("plugins dir %s: %w", dir, err)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("reading plugins dir: %w", err)
	}
	var out []Candidate
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(abs, name)
		fi, err := os.Stat(path) // follows links
		if err != nil || !fi.Mode().IsRegular() || !isExecutable(name, fi.Mode()) {
			continue
		}
		out = append(out, Candidate{Name: strings.TrimSuffix(name, ".exe"), Path: path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func isExecutable(name string, mode os.FileMode) bool {
	if runtime.GOOS == "windows" {
		return strings.EqualFold(filepath.Ext(name), ".exe")
	}
	return mode.Perm()&0o111 != 0
}
