// Package e2e is the end-to-end test of `ratchet serve`: the test binary,
// re-executed as the ratchet binary, serves on a free port with real worker
// processes and a SQLite file, and the test drives it through api/client
// and the remote CLI.
package e2e

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/ratchet-go/ratchet/cli/internal/command"
)

// envAsRatchet makes the test binary behave as the ratchet binary
// (cmd/ratchet's main): the test starts `serve` that way. The worker
// processes serve starts get a scrubbed environment, so they are
// recognised by their argument, "worker", instead.
const envAsRatchet = "RATCHET_CLI_E2E_AS_RATCHET"

func TestMain(m *testing.M) {
	if os.Getenv(envAsRatchet) == "1" || (len(os.Args) > 1 && os.Args[1] == "worker") {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := command.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
