package sqlstore_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves goroutines behind (an unclosed
// store, a stuck claimer).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
