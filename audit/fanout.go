package audit

import (
	"context"
	"errors"
	"slices"
)

// Fanout writes each record to every sink, in order, and fails if any of
// them fails: a record one sink could not take is not "audited".
//
// Put the file sink first: it fills in the record's chain position (seq and
// hash), which the sinks after it then carry, so that a copy in the
// observability stack anchors the file's chain.
func Fanout(sinks ...Sink) Sink { return fanout(slices.Clone(sinks)) }

type fanout []Sink

func (f fanout) Write(ctx context.Context, r *Record) error {
	var errs []error
	for _, s := range f {
		if err := s.Write(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Flush flushes every sink that buffers.
func (f fanout) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range f {
		errs = append(errs, Flush(ctx, s))
	}
	return errors.Join(errs...)
}

// Close closes every sink, all of them even if one fails.
func (f fanout) Close(ctx context.Context) error {
	var errs []error
	for _, s := range f {
		errs = append(errs, Close(ctx, s))
	}
	return errors.Join(errs...)
}
