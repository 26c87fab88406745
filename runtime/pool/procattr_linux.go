package pool

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill a worker when the host dies
// without stopping its pool (the worker also watches its parent).
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
