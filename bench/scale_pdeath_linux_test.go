package bench

import (
	"os/exec"
	"syscall"
)

// setParentDeath kills cmd if its parent dies first, so that a benchmark
// stopped half-way leaves no sandbox or import running.
func setParentDeath(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
