package workers_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/tzurot/tzurot/workers/systemtest"
)

// privateCluster is a PostgreSQL cluster of this test's own (initdb in a temp dir, its
// own port), so restarting it cannot disturb the other packages' tests that share the
// machine's server.
type privateCluster struct {
	t        *testing.T
	bin, dir string
	port     int
}

const pgBin = "/usr/lib/postgresql/15/bin"

func (c *privateCluster) run(args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, args[0]), args[1:]...)
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		// PostgreSQL refuses to run as root; CI runs as root.
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, args[0])}, args[1:]...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", args[0], err, out)
	}
	return nil
}

func (c *privateCluster) start() error {
	return c.run("pg_ctl", "-D", c.dir, "-w", "-l", filepath.Join(c.dir, "log"), "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir), "start")
}

func (c *privateCluster) crash() error {
	return c.run("pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop") // no clean shutdown: a crash
}

// Restarting PostgreSQL (an immediate stop: a crash) while mentions are in flight loses
// and doubles nothing: activities fail, Temporal retries them, the pool reconnects.
func TestPostgresRestartedMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: skipped with -short")
	}
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Skipf("no PostgreSQL binaries at %s", pgBin)
	}
	dir, err := os.MkdirTemp("", "tzurot-pg-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	_ = exec.Command("chown", "postgres", dir).Run()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &privateCluster{t: t, bin: pgBin, dir: filepath.Join(dir, "data"), port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	if err := c.run("initdb", "-D", c.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"); err != nil {
		t.Skipf("cannot make a private cluster here: %v", err)
	}
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.run("pg_ctl", "-D", c.dir, "-m", "immediate", "stop") }()

	t.Setenv("TZUROT_TEST_DATABASE_URL", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sys, err := systemtest.Start(ctx, systemtest.Options{Name: "faultpg"})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Stop()
	streamThroughFault(ctx, t, sys, "persist", func() {
		if err := c.crash(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := c.start(); err != nil {
			t.Fatal(err)
		}
	})
}
