package audit

import (
	"context"
	"log/slog"
)

// RedactLogs returns a slog.Handler that hands every record to h with its
// message and its string values masked by r (NewRedactor()'s defaults when
// r is nil): attribute values, in groups and in attributes added with
// WithAttrs, errors and fmt.Stringers as their text, and string slices.
// Server logs quote what clients send (a refused Origin, a token's parse
// error); through this handler they say no more than the audit record does.
func RedactLogs(h slog.Handler, r *Redactor) slog.Handler {
	if r == nil {
		r = defaultRedactor()
	}
	return &redactingHandler{next: h, red: r}
}

type redactingHandler struct {
	next slog.Handler
	red  *Redactor
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.red.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &redactingHandler{next: h.next.WithAttrs(red), red: h.red}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(name), red: h.red}
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.red.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.red.String(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, h.red.String(x.String()))
		case []string:
			red := make([]string, len(x))
			for i, s := range x {
				red[i] = h.red.String(s)
			}
			return slog.Any(a.Key, red)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
