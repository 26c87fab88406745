package clusterbus_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/runtime/worker"
)

// envWorker makes the test binary a worker process serving the JavaScript
// engine, as `ratchet worker` does (for the two-app test).
const envWorker = "RATCHET_CLUSTERBUS_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(envWorker) != "" {
		if err := worker.Serve(worker.ServeConfig{}); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m,
		// database/sql's connection opener outlives Close briefly.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
	)
}

func workerCommand(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = []string{envWorker + "=1"}
	return cmd
}
