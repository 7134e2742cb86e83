package target

import (
	"context"
	"log/slog"
)

// quietHandler passes on only mochi's errors: its info and warning lines
// (hooks added, every refused or dropped connection) would drown a load test.
type quietHandler struct{ slog.Handler }

// Enabled admits records at Error level and above.
func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && h.Handler.Enabled(ctx, l)
}

// WithAttrs keeps the handler quiet.
func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(as)}
}

// WithGroup keeps the handler quiet.
func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}
