//go:build !linux

package pool

import "os/exec"

// setParentDeathSignal: only Linux has one; workers watch their parent.
func setParentDeathSignal(*exec.Cmd) {}
