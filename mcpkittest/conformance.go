package mcpkittest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// The conformance functions (TestReplayCache, TestStore, TestSink, TestLimiter,
// TestWitness) check an implementation of one of mcpkit's extension
// interfaces against its documented contract, in the style of
// testing/slogtest: a team writing a Redis replay cache or a SQL approval
// store calls the function from one test and gets a subtest per property,
// named so that a failure reads as the broken promise. Each subtest gets a
// fresh implementation from the factory; the ids it uses are random, so a
// factory may hand out views of one shared backend. With a *testing.T each
// property is a subtest; with any other testing.TB the properties run in
// turn and each failure is reported prefixed with the property's name.

// runnerFor runs checks as subtests of a *testing.T, and on any other
// testing.TB (a benchmark, a stand-in) one after another, reporting each
// failure prefixed with the check's name.
func runnerFor(tb testing.TB) runner {
	if t, ok := tb.(*testing.T); ok {
		return tRunner{t}
	}
	return serialRunner{tb}
}

type serialRunner struct{ parent testing.TB }

func (r serialRunner) Run(name string, f func(testing.TB)) bool {
	c := &checkTB{TB: r.parent, name: name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(c)
	}()
	<-done
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
	return !c.Failed()
}

// checkTB is one check run by serialRunner: what it reports goes to the
// parent, prefixed with the check's name; FailNow and SkipNow end the
// check only.
type checkTB struct {
	testing.TB
	name string

	mu       sync.Mutex
	failed   bool
	skipped  bool
	cleanups []func()
}

func (c *checkTB) Name() string     { return c.TB.Name() + "/" + c.name }
func (c *checkTB) Helper()          {}
func (c *checkTB) Cleanup(f func()) { c.mu.Lock(); c.cleanups = append(c.cleanups, f); c.mu.Unlock() }
func (c *checkTB) Log(args ...any)  { c.TB.Log(c.name + ": " + fmt.Sprint(args...)) }
func (c *checkTB) Logf(format string, args ...any) {
	c.TB.Log(c.name + ": " + fmt.Sprintf(format, args...))
}
func (c *checkTB) Error(args ...any) { c.TB.Error(c.name + ": " + fmt.Sprint(args...)); c.Fail() }
func (c *checkTB) Errorf(format string, args ...any) {
	c.TB.Error(c.name + ": " + fmt.Sprintf(format, args...))
	c.Fail()
}
func (c *checkTB) Fatal(args ...any)                 { c.Error(args...); c.FailNow() }
func (c *checkTB) Fatalf(format string, args ...any) { c.Errorf(format, args...); c.FailNow() }
func (c *checkTB) Fail()                             { c.mu.Lock(); c.failed = true; c.mu.Unlock() }
func (c *checkTB) Failed() bool                      { c.mu.Lock(); defer c.mu.Unlock(); return c.failed }
func (c *checkTB) FailNow()                          { c.Fail(); runtime.Goexit() }
func (c *checkTB) Skip(args ...any)                  { c.Log(args...); c.SkipNow() }
func (c *checkTB) Skipf(format string, args ...any)  { c.Logf(format, args...); c.SkipNow() }
func (c *checkTB) SkipNow()                          { c.mu.Lock(); c.skipped = true; c.mu.Unlock(); runtime.Goexit() }
func (c *checkTB) Skipped() bool                     { c.mu.Lock(); defer c.mu.Unlock(); return c.skipped }

// concurrency is how many goroutines the concurrency checks start at once.
const concurrency = 32

// conform runs named checks on r.
func conform[T any](r runner, checks []conformCheck[T], arg T) {
	for _, c := range checks {
		r.Run(c.name, func(t testing.TB) { c.run(t, arg) })
	}
}

type conformCheck[T any] struct {
	name string
	run  func(t testing.TB, arg T)
}

// together runs f(i) for i in [0, n) on n goroutines released at the same
// moment, and waits for them.
func together(n int, f func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			f(i)
		}()
	}
	start.Done()
	done.Wait()
}

// randomID returns 128 random bits, hex encoded, so that checks sharing a
// backend never collide.
func randomID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
