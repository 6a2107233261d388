//go:build !linux

package prodstack

import "syscall"

// dieWithParent: only Linux kills a child with its parent; elsewhere Close must run.
func dieWithParent() *syscall.SysProcAttr { return nil }
