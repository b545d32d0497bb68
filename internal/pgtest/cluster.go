package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

const (
	// EnvRequire turns "PostgreSQL is not installed" from a skip into a
	// failure.
	EnvRequire = "MCPKIT_REQUIRE_POSTGRES"
	// envBin points at a directory holding initdb and pg_ctl.
	envBin = "PG_BIN"
)

// Cluster is a throwaway PostgreSQL listening on 127.0.0.1 and on a unix
// socket, with a trusted superuser "postgres" over the socket and
// scram-sha-256 over TCP.
type Cluster struct {
	bin, base, data, sock string
	port                  int
	cred                  *user.User // the OS user owning the cluster when tests run as root

	mu      sync.Mutex
	running bool
}

// Port is the TCP port the cluster listens on (the same across restarts).
func (c *Cluster) Port() int { return c.port }

// SuperURL connects as the superuser to db over the unix socket.
func (c *Cluster) SuperURL(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.sock, c.port, db)
}

// URL is a postgres:// URL for role with password on db over TCP.
func (c *Cluster) URL(role, password, db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", role, password, c.port, db)
}

// Start makes and starts a cluster. It returns a reason to skip (the
// binaries are missing) or an error; a nil Cluster with neither never
// happens.
func Start(ctx context.Context) (*Cluster, string, error) {
	bin := findBin()
	for _, tool := range []string{"initdb", "pg_ctl", "psql"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); bin == "" || err != nil {
			return nil, "PostgreSQL server binaries (initdb, pg_ctl, psql) not found in /usr/lib/postgresql/*/bin, $PG_BIN or PATH; install them (Debian: apt-get install -y postgresql) to run the database tests", nil
		}
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, "running as root and there is no 'postgres' OS user to run initdb as (Debian's postgresql package creates it)", nil
		}
		c.cred = u
	}
	if err := c.init(ctx); err != nil {
		c.Remove()
		return nil, "", err
	}
	return c, "", nil
}

func (c *Cluster) init(ctx context.Context) error {
	var err error
	// A short path: the unix socket path must fit in 107 bytes.
	if c.base, err = os.MkdirTemp("", "mcpkit-pg-"); err != nil {
		return err
	}
	c.data, c.sock = filepath.Join(c.base, "data"), c.base
	if err := c.chown(c.base); err != nil {
		return err
	}
	if out, err := c.cmd(ctx, "initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// The port is picked free and may be taken before the server binds it:
	// retry with another.
	for attempt := 0; ; attempt++ {
		if c.port, err = freePort(); err != nil {
			return err
		}
		err = c.Start(ctx)
		if err == nil {
			return nil
		}
		if attempt == 2 {
			return err
		}
	}
}

// Start starts a stopped cluster again, on the same port and data.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return nil
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100", c.port, c.sock)
	out, err := c.cmd(ctx, "pg_ctl", "-D", c.data, "-l", filepath.Join(c.base, "server.log"), "-w", "-t", "30", "-o", opts, "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.base, "server.log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	c.running = true
	return nil
}

// Stop stops the server at once (connections are cut, as when the
// database host goes away), keeping its data for Start.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return nil
	}
	if out, err := c.cmd(ctx, "pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	c.running = false
	return nil
}

// Remove stops the server and deletes its files.
func (c *Cluster) Remove() {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.data != "" {
		_ = c.Stop(ctx)
	}
	if c.base != "" {
		_ = os.RemoveAll(c.base)
	}
}

// Psql runs psql as the superuser on db with args (ON_ERROR_STOP set).
func (c *Cluster) Psql(ctx context.Context, db string, args ...string) ([]byte, error) {
	base := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", c.sock, "-p", strconv.Itoa(c.port), "-U", "postgres", "-d", db}
	return c.cmd(ctx, "psql", append(base, args...)...).CombinedOutput()
}

// Exec runs sql as the superuser on db.
func (c *Cluster) Exec(ctx context.Context, db, sql string) error {
	if out, err := c.Psql(ctx, db, "-c", sql); err != nil {
		return fmt.Errorf("psql: %v\n%s", err, out)
	}
	return nil
}

// Password returns a fresh random password.
func Password() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "pw-" + hex.EncodeToString(b)
}

// cmd runs a PostgreSQL tool, as the cluster's OS user when that is set.
func (c *Cluster) cmd(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, tool), args...)
	cmd.Dir = c.base
	cmd.WaitDelay = 5 * time.Second
	if c.cred != nil && tool != "psql" {
		cmd.SysProcAttr = credential(c.cred)
	}
	return cmd
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.cred.Uid)
	gid, _ := strconv.Atoi(c.cred.Gid)
	return os.Chown(path, uid, gid)
}

// findBin finds the directory of initdb and pg_ctl: $PG_BIN, the newest
// /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH), or PATH.
func findBin() string {
	if d := os.Getenv(envBin); d != "" {
		return d
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return pgVersion(matches[i]) > pgVersion(matches[j]) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		return filepath.Dir(p)
	}
	return ""
}

func pgVersion(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
