package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

func TestTenThousandCallsFromAHundredSessions(t *testing.T) {
	const sessions, perSession = 100, 100
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := openFile(path, audit.WithMaxBytes(1<<20))
	require.NoError(t, err)
	mem := &memSink{}
	f := newFixture(t, audit.Fanout(file, mem))
	clients := make([]sessionT, sessions)
	for i := range clients {
		clients[i] = mcpkittest.NewHarness(t, f.srv).Session
	}
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perSession {
				tool := "get_thing"
				if j%4 == 0 {
					tool = "update_thing"
				}
				res, err := callTool(t, clients[i], tool, map[string]any{"name": fmt.Sprintf("s%d-c%d", i, j)})
				if err != nil || res.IsError {
					errs <- fmt.Errorf("session %d call %d: %v %v", i, j, err, res)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	require.NoError(t, file.Close(context.Background()))

	finals := map[string]int{}
	starts := 0
	for _, r := range mem.all() {
		if r.Phase == audit.PhaseStart {
			starts++
			continue
		}
		var args struct{ Name string }
		require.NoError(t, jsonUnmarshal(r.Arguments, &args))
		finals[args.Name]++
	}
	assert.Len(t, finals, sessions*perSession, "no call without its record")
	for name, n := range finals {
		if n != 1 {
			t.Fatalf("call %s has %d final records", name, n)
		}
	}
	assert.Equal(t, sessions*perSession/4, starts)
	rot, err := audit.RotatedFiles(path)
	require.NoError(t, err)
	res, err := audit.Verify(testKeys, append(rot, path)...)
	require.NoError(t, err)
	assert.Equal(t, sessions*perSession+starts, res.Calls, "the file holds every record exactly once")
}
