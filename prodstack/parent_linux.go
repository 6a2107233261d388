package prodstack

import "syscall"

// dieWithParent: a process of the stack gets SIGKILL when the test (or benchmark) that
// started it dies without its Close — a timeout's panic, say — instead of running on.
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
