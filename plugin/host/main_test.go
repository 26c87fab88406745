package host_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// echoPluginBin is the example plugin, built once by TestMain.
var echoPluginBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ratchet-plugin-host-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echoPluginBin = filepath.Join(dir, "echo-plugin")
	build := exec.Command("go", "build", "-o", echoPluginBin, "./examples/echo-plugin")
	build.Dir = ".." // the plugin module's root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the example plugin:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
