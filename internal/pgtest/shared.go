package pgtest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

// Shared is one cluster per test binary, started on first use. Declare one
// in a test package and call Remove from TestMain after m.Run.
type Shared struct {
	once    sync.Once
	cluster *Cluster
	skip    string
	err     error
}

// Get returns the cluster, starting it on first use, or skips the test
// (fails it when MCPKIT_REQUIRE_POSTGRES=1).
func (s *Shared) Get(t testing.TB) *Cluster {
	t.Helper()
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		s.cluster, s.skip, s.err = Start(ctx)
	})
	if s.skip != "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1 but: %s", EnvRequire, s.skip)
		}
		t.Skip(s.skip)
	}
	if s.err != nil {
		t.Fatalf("start the throwaway PostgreSQL: %v", s.err)
	}
	return s.cluster
}

// Remove deletes the cluster if one was started.
func (s *Shared) Remove() { s.cluster.Remove() }
