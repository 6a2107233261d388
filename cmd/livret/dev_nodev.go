//go:build nodev

package main

import (
	"context"
	"errors"
)

// The production binary (go build -tags nodev) carries no embedded Temporal server: the dev
// and demo commands say so instead of running.
var errNoDev = errors.New("this binary is the production build (-tags nodev), without the embedded Temporal server: run `go run ./cmd/livret dev` from the source tree, or docker compose for a deployment")

func runDev(context.Context, []string) error  { return errNoDev }
func runDemo(context.Context, []string) error { return errNoDev }
