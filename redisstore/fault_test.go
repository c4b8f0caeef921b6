//go:build unix

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// TestFaultNotRunning: with no Redis at all, every request that needs
// the store gets the error handler's 500 within the commit timeout, and a
// request that does not need it is served.
func TestFaultNotRunning(t *testing.T) {
	srv := newRedisServer(t)
	st := New(faultClient(t, srv.addr()))
	fs := newFaultServer(t, st)

	if _, err := st.Read(context.Background(), testID(t)); err == nil || errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Read with Redis down gave %v, want a connection error (never sessions.ErrNotFound: that would drop a live session)", err)
	}
	for _, tc := range []struct {
		path   string
		cookie bool
		status int
	}{
		{"/none", true, http.StatusOK},
		{"/get?k=a", false, http.StatusOK},
		{"/set?k=a&v=1", false, http.StatusInternalServerError},
		{"/get?k=a", true, http.StatusInternalServerError},
		{"/set?k=a&v=1", true, http.StatusInternalServerError},
	} {
		id := ""
		if tc.cookie {
			id = newSessionID(t)
		}
		res := fs.do(tc.path, id)
		if res.err != nil {
			t.Fatalf("GET %s: %v", tc.path, res.err)
		}
		if res.status != tc.status {
			t.Errorf("GET %s (cookie %v) with Redis down: status %d, want %d", tc.path, tc.cookie, res.status, tc.status)
		}
		if res.id != "" {
			t.Errorf("GET %s (cookie %v) with Redis down set a session cookie", tc.path, tc.cookie)
		}
		if res.took > faultMaxLatency {
			t.Errorf("GET %s took %v with Redis down, want at most %v", tc.path, res.took, faultMaxLatency)
		}
		t.Logf("Redis down: GET %-14s cookie=%-5v -> %d in %v", tc.path, tc.cookie, res.status, res.took.Round(time.Millisecond))
	}
	if !strings.Contains(fs.logs.String(), "level=ERROR") {
		t.Errorf("the failures left no error log record:\n%s", fs.logs.String())
	}

	srv.start()
	res := fs.do("/set?k=a&v=1", "")
	if res.status != http.StatusOK || res.id == "" {
		t.Fatalf("once Redis runs, a new session gives status %d and cookie %q, want 200 and a cookie", res.status, res.id)
	}
	if res := fs.do("/get?k=a", res.id); res.status != http.StatusOK {
		t.Fatalf("once Redis runs, a read gives status %d", res.status)
	}
}

// faultAck is a write that a worker saw acknowledged with a 2xx.
type faultAck struct {
	id, key string
	value   int
	epoch   int64 // the epoch when the request started
}

// TestFaultOutageUnderLoad freezes Redis (SIGSTOP: connections hang),
// thaws it, then kills it (a crash that loses the data, as there is no
// persistence) and restarts it, all under a load of concurrent requests.
// Every request ends within the bound with 200 or 500; every write answered
// 200 is in Redis afterwards (checked before the crash for the writes made
// before it); the service recovers after each fault.
func TestFaultOutageUnderLoad(t *testing.T) {
	needFaultTests(t)
	srv := newRedisServer(t)
	srv.start()
	client := faultClient(t, srv.addr())
	st := New(client)
	fs := newFaultServer(t, st)
	check := New(redis.NewClient(&redis.Options{Addr: srv.addr()}))
	t.Cleanup(func() { check.client.Close() })

	const workers = 8
	const (
		up         = "up"
		frozen     = "frozen"     // SIGSTOP: connections hang
		down       = "down"       // killed, not restarted yet
		recovering = "recovering" // thawed or restarted, less than settle ago
		settle     = 500 * time.Millisecond
	)
	var (
		epoch atomic.Int64 // 0: before the crash check, 1: unverifiable, 2: after the restart
		state atomic.Value
		stop  atomic.Bool
		mu    sync.Mutex
		acks  []faultAck
		stats = map[string]int{}
		worst time.Duration
		wg    sync.WaitGroup
	)
	// windows record, per worker, when the last request started that
	// succeeded or failed, for the recovery checks.
	type window struct{ ok, fail time.Time }
	state.Store(up)
	windows := make([]window, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := ""
			for i := 0; !stop.Load(); i++ {
				path := fmt.Sprintf("/set?k=w%d-%d&v=%d", w, i, i)
				if i%3 == 2 {
					path = fmt.Sprintf("/get?k=w%d-%d", w, i-1)
				}
				ep, before, start := epoch.Load(), state.Load(), time.Now()
				res := fs.do(path, id)
				phase := "mixed"
				if state.Load() == before {
					phase = before.(string)
				}
				mu.Lock()
				if res.took > worst {
					worst = res.took
				}
				stats[fmt.Sprintf("%s %s %d", phase, path[:4], res.status)]++
				switch {
				case res.err != nil:
					t.Errorf("GET %s: %v", path, res.err)
				case res.took > faultMaxLatency:
					t.Errorf("GET %s took %v, want at most %v", path, res.took, faultMaxLatency)
				case res.status != http.StatusOK && res.status != http.StatusInternalServerError:
					t.Errorf("GET %s: status %d, want 200 or 500", path, res.status)
				case res.status == http.StatusOK && path[:4] == "/set" && (phase == frozen || phase == down):
					t.Errorf("GET %s: 200 while Redis was %s from start to end of the request", path, phase)
				}
				if res.status == http.StatusOK {
					windows[w].ok = start
				} else {
					windows[w].fail = start
				}
				if res.id != "" && !res.deleted {
					id = res.id
				}
				if res.status == http.StatusOK && path[:4] == "/set" {
					acks = append(acks, faultAck{id: id, key: fmt.Sprintf("w%d-%d", w, i), value: i, epoch: ep})
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	t.Cleanup(func() { stop.Store(true); wg.Wait() })

	// verify checks that every acknowledged write of the given epoch is in
	// Redis, and returns how many it checked.
	verify := func(ep int64) int {
		t.Helper()
		mu.Lock()
		var mine []faultAck
		for _, a := range acks {
			if a.epoch == ep {
				mine = append(mine, a)
			}
		}
		mu.Unlock()
		for _, a := range mine {
			rec, err := check.Read(context.Background(), handleOf(a.id))
			if err != nil {
				t.Errorf("session %s, acknowledged write %s=%d: Read gave %v", handleOf(a.id)[:12], a.key, a.value, err)
				continue
			}
			if got := string(rec[a.key]); got != strconv.Itoa(a.value) {
				t.Errorf("session %s: acknowledged write %s=%d, but Redis holds %q", handleOf(a.id)[:12], a.key, a.value, got)
			}
		}
		return len(mine)
	}
	// recovered waits until every worker has had a request succeed that
	// started at least settle after t0. The bound is on a hang (a client
	// that never recovers), not on speed: under CPU contention a request
	// may still time out after Redis is back, which failureCauses checks is
	// all it is.
	recovered := func(what string, t0 time.Time, settle time.Duration) {
		t.Helper()
		deadline := time.Now().Add(faultRecoveryBound)
		for {
			mu.Lock()
			behind := -1
			for w, win := range windows {
				if !win.ok.After(t0.Add(settle)) {
					behind = w
				}
			}
			mu.Unlock()
			if behind < 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: worker %d had no successful request started %v after Redis was back, in %v", what, behind, settle, faultRecoveryBound)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	time.Sleep(time.Second)
	srv.freeze()
	state.Store(frozen)
	time.Sleep(1500 * time.Millisecond)
	state.Store(recovering)
	srv.thaw()
	thawed := time.Now()
	time.Sleep(settle)
	state.Store(up)
	time.Sleep(time.Second)
	recovered("after SIGSTOP/SIGCONT", thawed, settle)

	epoch.Store(1)
	before := verify(0)

	srv.kill()
	state.Store(down)
	time.Sleep(1500 * time.Millisecond)
	state.Store(recovering)
	srv.start()
	restarted := time.Now()
	epoch.Store(2)
	time.Sleep(settle)
	state.Store(up)
	time.Sleep(time.Second)
	recovered("after kill and restart", restarted, settle)

	stop.Store(true)
	wg.Wait()
	after := verify(2)

	mu.Lock()
	defer mu.Unlock()
	t.Logf("acknowledged writes verified in Redis: %d before the crash, %d after the restart; slowest request %v",
		before, after, worst.Round(time.Millisecond))
	for _, k := range faultStatKeys(stats) {
		t.Logf("  %-16s %d", k, stats[k])
	}
	if before == 0 || after == 0 {
		t.Errorf("too few acknowledged writes to check: %d before the crash, %d after", before, after)
	}
	for _, k := range []string{"frozen /set 500", "down /set 500"} {
		if stats[k] == 0 {
			t.Errorf("no request saw %q: the outage was not exercised", k)
		}
	}
	failureCauses(t, fs.logs.String())
}

// faultRecoveryBound is how long the service may take to serve every worker
// again after Redis is back: a bound on a hang, far above the client's
// timeouts, so that scheduling noise on a loaded machine cannot reach it.
const faultRecoveryBound = 20 * time.Second

// faultCauses are the errors a store call may fail with while Redis is
// frozen, down, restarting or merely slow to answer on a loaded machine.
var faultCauses = []string{
	"i/o timeout", "context deadline exceeded", "connection refused", "connection reset",
	"broken pipe", "EOF", "connection pool timeout", "use of closed network connection",
	"LOADING",
}

// failureCauses checks that every error the Manager logged has one of the
// faultCauses: a 500 is allowed at any time (a request that times out under
// CPU contention is the library doing its job), but never for another
// reason, such as a reply read from the wrong command.
func failureCauses(t *testing.T, logs string) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, "level=ERROR") {
			continue
		}
		n++
		known := false
		for _, c := range faultCauses {
			if strings.Contains(line, c) {
				known = true
				break
			}
		}
		if !known {
			t.Errorf("a store failure with an unexpected cause: %s", line)
		}
	}
	t.Logf("%d store failures logged, each a timeout or a lost connection", n)
}

func faultStatKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
