//go:build unix

package redisstore

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// The fault tests run a redis-server of their own, so that they can stop,
// freeze and restart it under load.

const (
	// faultCommitTimeout bounds every store call of the Manager.
	faultCommitTimeout = 500 * time.Millisecond
	// faultMaxLatency is the longest any request may take while Redis is
	// down or frozen: a bound on a hang (a call that the commit timeout
	// failed to end), wide enough that a loaded machine running the race
	// detector never reaches it with a read and a write of 500 ms each.
	faultMaxLatency = 10 * time.Second
)

// redisServer is a redis-server process that a test owns.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	// conf is a config file given first on the command line, if not "";
	// args are added to the command line of every start.
	conf string
	args []string
	cmd  *exec.Cmd
	out  bytes.Buffer
}

// needRedisServer skips t when redis-server is not on PATH, or fails it
// under CI=true, which must run every test.
func needRedisServer(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but redis-server is not on PATH")
		}
		t.Skip("redis-server is not on PATH: skipping the tests that run their own")
	}
}

// faultTestsEnv is the environment variable that turns the long fault
// tests on outside CI.
const faultTestsEnv = "SESSIONS_FAULT_TESTS"

// needFaultTests skips t, a long fault test (it kills, freezes or fails
// over redis-server processes of its own, for seconds to minutes), unless
// SESSIONS_FAULT_TESTS=1 asks for the fault tests or CI=true, where every
// test runs.
func needFaultTests(t *testing.T) {
	t.Helper()
	if os.Getenv("CI") == "true" || os.Getenv(faultTestsEnv) == "1" {
		return
	}
	t.Skipf("a long fault test: set %s=1 to run it (CI=true always does)", faultTestsEnv)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newRedisServer returns a server on a free port, not started yet.
func newRedisServer(t *testing.T) *redisServer {
	t.Helper()
	needRedisServer(t)
	s := &redisServer{t: t, port: freePort(t), dir: t.TempDir()}
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start runs redis-server and waits until it answers PING.
func (s *redisServer) start() {
	s.t.Helper()
	var args []string
	if s.conf != "" {
		args = append(args, s.conf)
	}
	args = append(args, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--repl-diskless-sync-delay", "0")
	args = append(args, s.args...)
	s.cmd = exec.Command("redis-server", args...)
	s.out.Reset()
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	// A hang guard: a restarted replica may load a large snapshot first.
	deadline := time.Now().Add(serverStartBound)
	for !redisPings(s.addr()) {
		if time.Now().After(deadline) {
			s.kill()
			s.t.Fatalf("redis-server on %s did not answer PING:\n%s", s.addr(), s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverStartBound is how long a started redis-server may take to answer
// PING: a bound on a hang, far above what a loaded machine takes.
const serverStartBound = 30 * time.Second

// kill ends the process at once (a crash: the data is lost).
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// freeze stops the process without closing its connections: Redis hangs.
func (s *redisServer) freeze() {
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatal(err)
	}
}

func (s *redisServer) thaw() {
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		s.t.Fatal(err)
	}
}

// redisPings reports whether the server at addr answers PING with PONG
// (not LOADING, while it loads its data).
func redisPings(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// faultClient is a go-redis client with the short timeouts a service with a
// bounded commit timeout uses.
func faultClient(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr:                  addr,
		DialTimeout:           200 * time.Millisecond,
		ReadTimeout:           200 * time.Millisecond,
		WriteTimeout:          200 * time.Millisecond,
		PoolTimeout:           300 * time.Millisecond,
		ContextTimeoutEnabled: true,
		MaxRetries:            1,
		MinRetryBackoff:       10 * time.Millisecond,
		MaxRetryBackoff:       50 * time.Millisecond,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// faultServer is an HTTP server under a Manager whose panics and error-log
// lines are collected.
type faultServer struct {
	*httptest.Server
	m      *sessions.Manager
	logs   logBuffer
	errLog logBuffer
}

// newFaultServer serves, under a Manager on st: /set?k=K&v=N sets K to the
// int N, /get?k=K writes K's value, /none never touches the session,
// /destroy logs out.
func newFaultServer(t *testing.T, st sessions.Store, opts ...sessions.Option) *faultServer {
	fs := &faultServer{}
	opts = append([]sessions.Option{sessions.WithCookieSecure(false), sessions.WithIdleTimeout(30 * time.Minute),
		sessions.WithCommitTimeout(faultCommitTimeout), sessions.WithLogger(slog.New(slog.NewTextHandler(&fs.logs, nil)))}, opts...)
	fs.m = sessions.New(st, opts...)
	mux := http.NewServeMux()
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("v"))
		sessions.Get(r).Set(r.URL.Query().Get("k"), n)
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strconv.Itoa(sessions.Get(r).GetInt(r.URL.Query().Get("k"))))
	})
	mux.HandleFunc("/none", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) { sessions.Get(r).Destroy() })
	fs.Server = httptest.NewUnstartedServer(fs.m.Handler(mux))
	fs.Config.ErrorLog = log.New(&fs.errLog, "", 0)
	fs.Start()
	t.Cleanup(func() {
		fs.Close()
		if strings.Contains(fs.errLog.String(), "panic") {
			t.Errorf("the server panicked:\n%s", fs.errLog.String())
		}
	})
	return fs
}

// faultResult is one request's outcome.
type faultResult struct {
	status  int
	id      string // the session ID the response set, if any
	deleted bool
	body    string
	took    time.Duration
	err     error
}

var faultHTTP = &http.Client{Timeout: 30 * time.Second}

func (fs *faultServer) do(path, id string) faultResult {
	start := time.Now()
	req, err := http.NewRequest(http.MethodGet, fs.URL+path, nil)
	if err != nil {
		return faultResult{err: err}
	}
	if id != "" {
		req.Header.Set("Cookie", fs.m.CookieName()+"="+id)
	}
	resp, err := faultHTTP.Do(req)
	if err != nil {
		return faultResult{err: err, took: time.Since(start)}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	res := faultResult{status: resp.StatusCode, body: string(body), took: time.Since(start)}
	for _, c := range resp.Cookies() {
		if c.Name == fs.m.CookieName() {
			res.id, res.deleted = c.Value, c.MaxAge < 0
		}
	}
	return res
}
