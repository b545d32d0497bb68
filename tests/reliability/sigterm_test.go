package reliability

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSIGTERMDuringLoad builds the incidents example, serves it over HTTP
// in a child process, sends SIGTERM while 16 clients call it, and checks
// that every call completed or was cleanly refused (none hung), the process
// exited 0, and the audit file verifies with one final record per
// completed call.
func TestSIGTERMDuringLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/incidents")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "incidents")
	build := exec.Command("go", "build", "-o", bin, "../../examples/incidents")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	auditPath := filepath.Join(dir, "audit.jsonl")
	// Stateless: no standalone SSE stream holds the shutdown open, so the
	// graceful shutdown is about the calls alone.
	cmd := exec.Command(bin, "-http", "127.0.0.1:0", "-tokens", "../../examples/incidents/testdata/tokens.json",
		"-audit", auditPath, "-stateless")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	urls := make(chan string, 1)
	var logMu sync.Mutex
	var logs []string
	go func() {
		re := regexp.MustCompile(`url=(http://\S+)/mcp`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logs = append(logs, sc.Text())
			logMu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the server did not start: %v", logs)
	}

	const clients = 16
	var completed, refused, hung atomic.Int64
	var started sync.WaitGroup
	started.Add(clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			hc, tr := httpClient("dev-alice-0123456789abcdef", 2, nil)
			defer tr.CloseIdleConnections()
			cs, err := connect(context.Background(), url, hc)
			started.Done()
			if err != nil {
				refused.Add(1)
				return
			}
			defer cs.Close()
			for i := 0; ; i++ {
				args := map[string]any{"id": fmt.Sprintf("INC-10%02d", (c+i)%50+1)}
				if i%4 == 3 {
					args = map[string]any{"id": "not-an-id"} // invalid_input
				}
				// Bounded: a call that hangs past this is a failure.
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_incident", Arguments: args})
				cancel()
				switch {
				case errors.Is(err, context.DeadlineExceeded):
					hung.Add(1)
					return
				case err != nil:
					refused.Add(1) // the server is gone: refused, not lost
					return
				}
				completed.Add(1)
			}
		})
	}
	started.Wait()
	require.Eventually(t, func() bool { return completed.Load() >= 200 }, 20*time.Second, time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	atTerm := completed.Load()
	wg.Wait()
	select {
	case err := <-exited:
		require.NoError(t, err, "exit status after SIGTERM; logs: %v", logs)
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the server did not exit after SIGTERM")
	}
	t.Logf("SIGTERM after %d calls; %d completed in all, %d clients refused after", atTerm, completed.Load(), refused.Load())
	assert.Zero(t, hung.Load(), "no call hung")
	assert.EqualValues(t, clients, refused.Load(), "every client ended on a clean refusal once the server stopped")

	final, _ := records(t, auditPath)
	assert.Len(t, final, int(completed.Load()), "one final record per completed call, all flushed before exit")
	outcomes := map[string]int{}
	for _, r := range final {
		outcomes[r.Outcome]++
	}
	assert.Equal(t, int(completed.Load()), outcomes["ok"]+outcomes["invalid_input"], "outcomes %v", outcomes)
}
