package devstack

import (
	"context"
	"log/slog"
	"sync"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// serverLogger is the Temporal server's log.Logger writing to slog, so the embedded server
// logs in the same JSON as Livret. The server is chatty: the handler's level (warn for
// `livret dev`) decides what is kept, checked before any tag is converted, and the gate
// holds back what its services say while they start and stop.
type serverLogger struct {
	l    *slog.Logger
	gate *logGate
}

// logGate holds the server's records back while it starts: until history and matching have
// joined the frontend, every call routed to them logs "Not enough hosts to serve the
// request" at error level, which means nothing once the server serves (the records are
// dropped then) and everything if it never does (they are written then). While the server
// stops, its services report each other gone: muted.
type logGate struct {
	mu      sync.Mutex
	state   int // gateStarting, gateOpen, gateMuted
	pending []func()
}

const (
	gateStarting = iota
	gateOpen
	gateMuted
	// maxPending bounds what a server that never starts keeps in memory.
	maxPending = 200
)

func (g *logGate) emit(write func()) {
	g.mu.Lock()
	state := g.state
	if state == gateStarting && len(g.pending) < maxPending {
		g.pending = append(g.pending, write)
	}
	g.mu.Unlock()
	if state == gateOpen {
		write()
	}
}

// open lets records through from now on; flush writes those held back.
func (g *logGate) open(flush bool) {
	g.mu.Lock()
	pending := g.pending
	g.pending, g.state = nil, gateOpen
	g.mu.Unlock()
	if flush {
		for _, write := range pending {
			write()
		}
	}
}

func (g *logGate) mute() {
	g.mu.Lock()
	g.pending, g.state = nil, gateMuted
	g.mu.Unlock()
}

var (
	_ log.Logger      = serverLogger{}
	_ log.WithLogger  = serverLogger{}
	_ log.SLogWrapper = serverLogger{}
	_ log.SkipLogger  = serverLogger{}
)

func newServerLogger(l *slog.Logger) serverLogger {
	return serverLogger{l: l.With("component", "temporal-server"), gate: &logGate{}}
}

func (s serverLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	a := attrs(tags)
	s.gate.emit(func() { s.l.LogAttrs(ctx, level, msg, a...) })
}

func attrs(tags []tag.Tag) []slog.Attr {
	out := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		out = append(out, slog.Any(t.Key(), t.Value()))
	}
	return out
}

func (s serverLogger) Debug(msg string, tags ...tag.Tag)  { s.log(slog.LevelDebug, msg, tags) }
func (s serverLogger) Info(msg string, tags ...tag.Tag)   { s.log(slog.LevelInfo, msg, tags) }
func (s serverLogger) Warn(msg string, tags ...tag.Tag)   { s.log(slog.LevelWarn, msg, tags) }
func (s serverLogger) Error(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }
func (s serverLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// Panic and Fatal keep the server's contract: the caller does not expect to continue.
func (s serverLogger) Panic(msg string, tags ...tag.Tag) {
	s.gate.open(true)
	s.log(slog.LevelError, msg, tags)
	panic(msg)
}

func (s serverLogger) Fatal(msg string, tags ...tag.Tag) {
	s.gate.open(true)
	s.log(slog.LevelError, msg, tags)
	panic("temporal server: fatal: " + msg)
}

func (s serverLogger) With(tags ...tag.Tag) log.Logger {
	args := make([]any, 0, len(tags))
	for _, a := range attrs(tags) {
		args = append(args, a)
	}
	return serverLogger{l: s.l.With(args...), gate: s.gate}
}

func (s serverLogger) Skip(int) log.Logger { return s }

// SLog lets the server's own slog users (log.NewSlogLogger) write to the same handler.
func (s serverLogger) SLog() *slog.Logger { return s.l }
