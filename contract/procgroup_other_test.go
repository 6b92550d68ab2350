//go:build !unix

package contract

import "os/exec"

// ownProcessGroup does nothing where there are no POSIX process groups.
func ownProcessGroup(*exec.Cmd) {}

// killProcessGroup ends cmd; its children are not reached here.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
