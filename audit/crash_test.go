package audit_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/audit"
)

// TestHelperProcess is the child of the crash and disk-full tests; it does
// nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	mode, path := os.Getenv("AUDIT_HELPER"), os.Getenv("AUDIT_FILE")
	if mode == "" {
		t.Skip("helper process only")
	}
	switch mode {
	case "crash":
		// Write from several goroutines, acknowledging each record once
		// Write returned, until the parent kills the process.
		s, err := openFile(path, audit.WithMaxBytes(256<<10))
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(3)
		}
		var mu sync.Mutex
		out := bufio.NewWriter(os.Stdout)
		for g := range 8 {
			go func() {
				for i := 0; ; i++ {
					r := rec(g*1_000_000 + i)
					if err := s.Write(context.Background(), r); err != nil {
						continue
					}
					mu.Lock()
					fmt.Fprintln(out, r.Seq)
					out.Flush()
					mu.Unlock()
				}
			}()
		}
		select {}
	case "full":
		// The file may not grow past the limit: writes hit EFBIG, as on a
		// full disk.
		signal.Ignore(syscall.SIGXFSZ)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 20_000, Max: 20_000}); err != nil {
			fmt.Println("setrlimit:", err)
			os.Exit(3)
		}
		s, err := openFile(path, audit.WithSyncEachRecord())
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(3)
		}
		ok, failed := 0, 0
		var last error
		for i := range 200 {
			if err := s.Write(context.Background(), rec(i)); err != nil {
				failed++
				last = err
				continue
			}
			ok++
		}
		fmt.Printf("%d %d %v\n", ok, failed, last)
		os.Exit(0)
	}
}

func helper(t *testing.T, mode, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AUDIT_HELPER="+mode, "AUDIT_FILE="+path)
	return cmd
}

func TestCrashMidWriteRecoversAndVerifies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd := helper(t, "crash", path)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	var acked uint64
	for n := 0; n < 3000 && sc.Scan(); n++ {
		seq, err := strconv.ParseUint(sc.Text(), 10, 64)
		require.NoError(t, err, sc.Text())
		acked = max(acked, seq)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	require.Greater(t, acked, uint64(1000))

	s, err := openFile(path)
	require.NoError(t, err, "recovery")
	t.Logf("recovered: %+v", s.Recovered())
	writeN(t, s, 1, 3)
	require.NoError(t, s.Close(context.Background()))
	rot, err := audit.RotatedFiles(path)
	require.NoError(t, err)
	res, err := audit.Verify(testKeys, append(rot, path)...)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), res.FirstSeq)
	assert.GreaterOrEqual(t, res.LastSeq, acked+3, "every acknowledged record survived the crash")
}

func TestDiskFullFailsWritesAndKeepsTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	out, err := helper(t, "full", path).Output()
	require.NoError(t, err, string(out))
	var ok, failed int
	var last string
	_, _ = fmt.Sscanf(string(out), "%d %d", &ok, &failed)
	last = string(out)
	require.Greater(t, ok, 10, last)
	require.Greater(t, failed, 10, last)
	assert.Contains(t, last, "file too large")
	res, err := audit.Verify(testKeys, path)
	require.NoError(t, err, "no partial record is left behind")
	assert.Equal(t, ok, res.Calls, "exactly the records whose Write succeeded are in the file")
}
