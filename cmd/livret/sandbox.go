package main

import (
	"context"
	"errors"
)

// runSandbox is filled in by the sandbox work (issue 3).
func runSandbox(ctx context.Context, args []string) error {
	return errors.New("not built yet")
}
