package command

import (
	"context"
	"os"
	"testing"
)

// TestMain lets the test binary stand in for the ratchet binary when the
// worker pool re-executes it as "worker" (run-once --isolated).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
