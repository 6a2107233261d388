//go:build !linux

package mailpit

import "os/exec"

// dieWithParent: only Linux can tie a child's life to its parent's; elsewhere Stop does.
func dieWithParent(*exec.Cmd) {}
