package mailpit

import (
	"os/exec"
	"syscall"
)

// dieWithParent: a mailpit whose parent is killed (kill -9 of `livret dev`, a test binary
// that timed out) stops too, instead of holding its ports.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
