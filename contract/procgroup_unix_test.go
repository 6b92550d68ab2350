//go:build unix

package contract

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd in a new process group, so that every process
// it spawns can be ended together.
func ownProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killProcessGroup ends cmd and every process in its group.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
