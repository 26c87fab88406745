//go:build unix

package delivery_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/delivery"
)

func TestFilesystemPermissions(t *testing.T) {
	// Not parallel: it changes the process umask.
	old := syscall.Umask(0o077) // a strict umask must not change the mode asked for
	defer syscall.Umask(old)
	dir := t.TempDir()
	job, exec := sampleJob()
	d := newDeliverer(t, nil, delivery.Config{})
	for _, mode := range []string{"0644", "0600", "0640", "0755"} {
		path := filepath.Join(dir, mode+".json")
		r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{fsDest(map[string]any{"path": path, "permissions": mode})})
		if !r[0].Success {
			t.Fatalf("%s: %+v", mode, r[0])
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got.String() != fsMode(mode).String() {
			t.Errorf("mode %s: file has %s", mode, got)
		}
	}
}

func fsMode(s string) fs.FileMode {
	var m fs.FileMode
	for _, c := range strings.TrimPrefix(s, "0") {
		m = m*8 + fs.FileMode(c-'0')
	}
	return m
}
