//go:build !windows

package sysprep

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts cmd in a process group of its own, which a cancel
// stops whole: libguestfs's QEMU appliance with the tool.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
}
