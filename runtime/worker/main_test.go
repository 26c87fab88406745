package worker

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// envServe makes the test binary run Serve (see TestServe*).
const envServe = "RATCHET_WORKER_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(envServe) != "" {
		if err := Serve(ServeConfig{}); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
