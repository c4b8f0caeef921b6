//go:build unix

package pgstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessions/pgstore"
	"github.com/sessionkit/sessions/sqlstore/sqlstoretest"
)

// privatePG is a PostgreSQL cluster of the test's own, on a free port, so
// that the test can crash and restart it without disturbing anything else.
type privatePG struct {
	t      *testing.T
	bin    string
	dir    string
	port   int
	asUser []string // runs the server's tools as postgres when the test runs as root
}

// pgBinDir finds the directory of initdb, pg_ctl and postgres.
func pgBinDir(t *testing.T) string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but initdb is not installed: the fault test needs a PostgreSQL of its own")
	}
	t.Skip("initdb is not installed: skipping the fault test")
	return ""
}

func newPrivatePG(t *testing.T) *privatePG {
	p := &privatePG{t: t, bin: pgBinDir(t)}
	dir, err := os.MkdirTemp("", "pgstore-fault-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, the server needs the user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	p.run("initdb", "-D", p.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
	p.port = freePort(t)
	p.start()
	t.Cleanup(p.crash)
	return p
}

func (p *privatePG) data() string { return filepath.Join(p.dir, "data") }

func (p *privatePG) run(tool string, args ...string) {
	p.t.Helper()
	argv := append(append(p.asUser[:len(p.asUser):len(p.asUser)], filepath.Join(p.bin, tool)), args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("%s: %v\n%s", tool, err, out)
	}
}

// start runs the server and waits until it accepts connections.
func (p *privatePG) start() {
	p.run("pg_ctl", "-D", p.data(), "-w", "-t", "60", "-l", filepath.Join(p.dir, "log"), "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, p.dir), "start")
}

// crash stops the server at once, without a checkpoint, as a crash would:
// the next start recovers from the write-ahead log.
func (p *privatePG) crash() {
	p.run("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop")
}

func (p *privatePG) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres", p.port)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestFaultDatabaseRestart crashes PostgreSQL under load and restarts it.
func TestFaultDatabaseRestart(t *testing.T) {
	pg := newPrivatePG(t)
	pool, err := pgxpool.New(context.Background(), pg.dsn())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store, err := pgstore.New(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sqlstoretest.RunRestartFault(t, store, pg.crash, pg.start)
}
