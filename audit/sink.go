package audit

import (
	"context"
)

// Sink receives audit records. Write returns once the sink has taken the
// record (for a file sink: written to the file); an error means the record
// was not taken, and the middleware refuses the call it describes.
//
// A record passed to Write is shared and must not be changed, except for
// the chain fields (Seq, PrevHash, Hash) a file sink fills in.
type Sink interface {
	Write(ctx context.Context, r *Record) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, r *Record) error

// Write calls f.
func (f SinkFunc) Write(ctx context.Context, r *Record) error { return f(ctx, r) }

// Flusher is a sink that buffers: Flush returns once everything written
// before it has reached its destination.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Closer is a sink that holds resources. Close flushes, then releases them;
// later writes fail.
type Closer interface {
	Close(ctx context.Context) error
}

// Flush flushes s if it buffers.
func Flush(ctx context.Context, s Sink) error {
	if f, ok := s.(Flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}

// Close closes s if it holds resources.
func Close(ctx context.Context, s Sink) error {
	if c, ok := s.(Closer); ok {
		return c.Close(ctx)
	}
	return nil
}
