package filestore

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// The crash tests run the test binary again as a child process that writes
// a stream of updates to a few sessions, and kill it with SIGKILL. The
// child is selected by crashEnv, set to "<mode> <dir>".
const crashEnv = "FILESTORE_CRASH_CHILD"

const (
	crashSessions = 4
	crashRounds   = 50
	// brokenRounds is fewer: the broken variant needs only to be caught,
	// and its last, forced round always catches it.
	brokenRounds = 20
	// crashPad is the size of each session's pad: large enough that a write
	// takes a while, so that kills land inside writes.
	crashPad = 256 << 10
)

// Child modes: the Store's own Write; the broken variant, which truncates
// the live file and writes it in place; the broken variant stopped for
// good between the truncation and the write, on one session; and a child
// that only holds the lock of one id (TestLockHeldByAnotherProcess).
const (
	modeStore  = "store"
	modeBroken = "broken"
	modeForced = "forced"
	modeHold   = "hold"
)

func TestMain(m *testing.M) {
	if v := os.Getenv(crashEnv); v != "" {
		mode, dir, _ := strings.Cut(v, " ")
		os.Exit(crashChild(mode, dir))
	}
	os.Exit(m.Run())
}

// TestCrashNeverLosesASession kills a writer at random moments: after each
// kill, every session must read as the state of its last acknowledged write
// or of the write in flight, never empty, corrupt or missing.
func TestCrashNeverLosesASession(t *testing.T) {
	c := newCrashRun(t)
	for range crashRounds {
		c.round(modeStore)
	}
	if c.lostRounds > 0 {
		t.Errorf("sessions were lost or corrupted in %d of %d rounds", c.lostRounds, crashRounds)
	}
	t.Logf("%d rounds, %d writes acknowledged; %d kills landed inside a Write (a temporary file was left)",
		crashRounds, c.acks, c.midWrite)
}

// TestCrashBrokenVariantLosesSessions runs the same crash test against a
// writer that truncates the live file and writes it in place, to show that
// the crash test catches it. The rounds with random kills lose sessions
// often but not always; the last round kills the writer between truncation
// and write, where it always loses the session.
func TestCrashBrokenVariantLosesSessions(t *testing.T) {
	c := newCrashRun(t)
	for range brokenRounds {
		c.round(modeBroken)
	}
	random := c.lostRounds
	c.round(modeForced)
	t.Logf("the broken variant lost or corrupted sessions in %d of %d rounds with random kills (%d writes acknowledged)",
		random, brokenRounds, c.acks)
	if c.lostRounds == random {
		t.Error("killed between truncation and write, the broken variant kept its session: the crash test cannot tell a broken writer")
	}
}

// crashRun holds the sessions of a crash test and what the parent knows of
// them: the counter of each session's last acknowledged write.
type crashRun struct {
	t          *testing.T
	dir        string
	store      *Store
	ids        []string
	acked      []int
	lostRounds int
	acks       int
	midWrite   int
}

func newCrashRun(t *testing.T) *crashRun {
	s := newTestStore(t)
	c := &crashRun{t: t, dir: s.dir, store: s, ids: crashIDs(), acked: make([]int, crashSessions)}
	for _, id := range c.ids {
		mustNil(t, s.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: countRecord(0, crashPad)}, time.Hour))
	}
	return c
}

func crashIDs() []string {
	ids := make([]string, crashSessions)
	for i := range ids {
		ids[i] = testID("crash " + strconv.Itoa(i))
	}
	return ids
}

// round starts a child in mode, kills it, and checks every session.
func (c *crashRun) round(mode string) {
	c.t.Helper()
	if c.t.Failed() {
		return
	}
	cmd, lines, stderr := c.start(mode)
	c.waitAndKill(mode, cmd, lines, stderr)
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		c.t.Fatalf("the child ended with %v, not by the kill; its stderr: %s", err, stderr)
	}
	c.check()
}

// start runs the child and returns its output lines, read on a goroutine.
// The child exits when its stdin closes, so it never outlives the test.
func (c *crashRun) start(mode string) (*exec.Cmd, <-chan string, *syncBuffer) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+mode+" "+c.dir)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if _, err := cmd.StdinPipe(); err != nil {
		c.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines, stderr
}

// waitAndKill reads the child's lines until it is at the point mode kills
// it (ready and a random delay, or the forced window), kills it, and reads
// the rest, recording each acknowledged write.
func (c *crashRun) waitAndKill(mode string, cmd *exec.Cmd, lines <-chan string, stderr *syncBuffer) {
	want := "ready"
	if mode == modeForced {
		want = "truncated"
	}
	timeout := time.After(30 * time.Second)
	var kill <-chan time.Time
	killed := false
	for !killed || lines != nil {
		select {
		case line, ok := <-lines:
			if !ok {
				lines = nil
				if !killed {
					c.t.Fatalf("the child ended before it was killed; its stderr: %s", stderr)
				}
				continue
			}
			switch {
			case line == want && mode == modeForced:
				kill = time.After(0)
			case line == want:
				kill = time.After(rand.N(25 * time.Millisecond))
			case line != "ready":
				c.ack(line)
			}
		case <-kill:
			kill, killed = nil, true
			mustNil(c.t, cmd.Process.Kill()) // SIGKILL
		case <-timeout:
			c.t.Fatalf("the child did not get to %q within 30s; its stderr: %s", want, stderr)
		}
	}
}

func (c *crashRun) ack(line string) {
	var i, n int
	if _, err := fmt.Sscanf(line, "%d %d", &i, &n); err != nil || i < 0 || i >= len(c.acked) {
		c.t.Fatalf("unexpected line from the child: %q", line)
	}
	c.acked[i] = n
	c.acks++
}

// check reads every session: each must hold its last acknowledged counter
// or the next one. A session that does not is counted, then written again
// so that the next round starts from a known state.
func (c *crashRun) check() {
	if n := c.removeTemps(); n > 0 {
		c.midWrite++
	}
	lost := false
	for i, id := range c.ids {
		rec, err := c.store.Read(bg, id)
		n := -1
		if err == nil {
			n, err = checkCount(rec)
		}
		if err == nil && (n == c.acked[i] || n == c.acked[i]+1) {
			c.acked[i] = n
			continue
		}
		lost = true
		c.t.Logf("session %d after the kill: counter %d, error %v; acknowledged %d", i, n, err, c.acked[i])
		mustNil(c.t, c.store.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: countRecord(c.acked[i], crashPad)}, time.Hour))
	}
	if lost {
		c.lostRounds++
	}
}

// removeTemps deletes the temporary files a killed Write left, which the
// sweeper would delete only an hour later, and returns how many there were.
func (c *crashRun) removeTemps() int {
	n := 0
	for _, name := range dirNames(c.t, c.dir) {
		if strings.HasPrefix(name, tempPrefix) {
			mustNil(c.t, os.Remove(c.store.path(name)))
			n++
		}
	}
	return n
}

// syncBuffer collects a child's stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
