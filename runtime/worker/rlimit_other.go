//go:build !linux

package worker

// setOSMemoryLimit sets no OS limit outside Linux: only the Go limit and the
// watchdog apply.
func setOSMemoryLimit(uint64) (uint64, error) { return 0, nil }
