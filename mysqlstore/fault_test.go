//go:build unix

package mysqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/sessions/mysqlstore"
	"github.com/sessionkit/sessions/sqlstore/sqlstoretest"
)

// privateMariaDB is a MariaDB server of the test's own, on a free port, so
// that the test can crash and restart it without disturbing anything else.
type privateMariaDB struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
	out  bytes.Buffer
}

func mariadbTools(t *testing.T) (install, server string) {
	install, err1 := exec.LookPath("mariadb-install-db")
	server = "/usr/sbin/mariadbd"
	_, err2 := os.Stat(server)
	if err1 == nil && err2 == nil {
		return install, server
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but mariadb-install-db or /usr/sbin/mariadbd is missing: the fault test needs a MariaDB of its own")
	}
	t.Skip("MariaDB is not installed: skipping the fault test")
	return "", ""
}

func newPrivateMariaDB(t *testing.T) *privateMariaDB {
	install, _ := mariadbTools(t)
	dir, err := os.MkdirTemp("", "mysqlstore-fault-")
	if err != nil {
		t.Fatal(err)
	}
	m := &privateMariaDB{t: t, dir: dir, port: freePort(t)}
	t.Cleanup(func() { os.RemoveAll(dir) })
	args := []string{"--no-defaults", "--datadir=" + m.data(), "--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Getuid() == 0 {
		args = append(args, "--user=root")
	}
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	m.start()
	t.Cleanup(m.crash)
	db, err := sql.Open("mysql", m.dsn(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE test"); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *privateMariaDB) data() string { return filepath.Join(m.dir, "data") }

// start runs the server and waits until it accepts connections.
func (m *privateMariaDB) start() {
	m.t.Helper()
	_, server := mariadbTools(m.t)
	args := []string{"--no-defaults", "--datadir=" + m.data(), fmt.Sprintf("--port=%d", m.port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(m.dir, "sock"), "--pid-file=" + filepath.Join(m.dir, "pid"),
		"--skip-grant-tables", "--skip-log-bin", "--innodb-buffer-pool-size=32M",
		// A commit reaches the OS, not the disk: what the test kills is the
		// process, and the OS keeps what it was given.
		"--innodb-flush-log-at-trx-commit=2"}
	if os.Getuid() == 0 {
		args = append(args, "--user=root")
	}
	m.out.Reset()
	m.cmd = exec.Command(server, args...)
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	db, err := sql.Open("mysql", m.dsn(""))
	if err != nil {
		m.t.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(60 * time.Second); db.Ping() != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			m.crash()
			m.t.Fatalf("mariadbd did not accept connections within 60 s:\n%s", m.out.String())
		}
	}
}

// crash kills the server, as a crash would: the next start recovers from
// InnoDB's redo log.
func (m *privateMariaDB) crash() {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
	m.cmd = nil
}

func (m *privateMariaDB) dsn(db string) string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s", m.port, db)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestFaultDatabaseRestart crashes MariaDB under load and restarts it.
func TestFaultDatabaseRestart(t *testing.T) {
	// The driver logs each connection the crash breaks; the test counts
	// the failures itself.
	mysql.SetLogger(log.New(io.Discard, "", 0))
	m := newPrivateMariaDB(t)
	db, err := sql.Open("mysql", m.dsn("test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := mysqlstore.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sqlstoretest.RunRestartFault(t, store, m.crash, m.start)
}
