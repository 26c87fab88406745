package host

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill a plugin when the host dies
// without stopping its manager.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
