// Command livret is Livret's single binary; its first argument picks the role.
//
//	livret migrate   apply the database migrations
//	livret worker    the Temporal worker: daily runs, resends, account keepers
//	livret webapi    the HTTP API and the admin pages
//	livret sandbox   the DSR stand-in (docs/dsr.md)
//	livret dev       all of the above on one machine, with an embedded Temporal and its UI
//	livret demo      dev, with a demo school seeded
//
// Configuration comes from the environment (see README.md).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one role of the binary. args are the arguments after the role's name.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"migrate": {"apply the database migrations and exit", runMigrate},
		"sandbox": {"run the DSR stand-in server", runSandbox},
		"worker":  {"run the Temporal worker (daily runs, resends, token keepers)", runWorker},
		"webapi":  {"serve the HTTP API and the admin pages", runWebapi},
		"dev":     {"run everything on this machine: PostgreSQL, sandbox, embedded Temporal and its UI, worker, webapi", runDev},
		"demo":    {"run dev and seed a demo school (--demo)", runDemo},
	}
}

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	cmds := commands()
	if len(os.Args) < 2 {
		usage(cmds)
		os.Exit(2)
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		usage(cmds)
		os.Exit(2)
	}
	// Ctrl-C and SIGTERM cancel the context; every role shuts down gracefully on it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "livret %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage(cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(os.Stderr, "usage: livret <command> [flags]")
	for _, name := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", name, cmds[name].summary)
	}
}

// env returns the variable's value, or def when it is unset or empty.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
