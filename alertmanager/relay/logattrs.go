package relay

import (
	"context"
	"log/slog"
	"slices"
)

// lazyAttrs adds attrs to the records actually written. slog's With
// formats its attributes at once, and the relay would do that on every
// notification for log lines it rarely writes.
type lazyAttrs struct {
	slog.Handler
	attrs []slog.Attr
}

// withLazy returns logger with attrs added to the lines it writes.
func withLazy(logger *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	return slog.New(lazyAttrs{Handler: logger.Handler(), attrs: attrs})
}

func (h lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return lazyAttrs{Handler: h.Handler, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h lazyAttrs) WithGroup(name string) slog.Handler {
	return h.Handler.WithAttrs(h.attrs).WithGroup(name)
}
