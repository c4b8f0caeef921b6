package filestore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// twoStores returns two Stores on one fresh directory: what two processes
// that share a directory hold, or one program that opens it twice.
func twoStores(t *testing.T) (*Store, *Store) {
	t.Helper()
	dir := t.TempDir()
	return newStoreAt(t, dir), newStoreAt(t, dir)
}

func newStoreAt(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// together runs each fn on a goroutine of its own, all released at one
// moment, and returns their errors in order.
func together(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// TestTwoStoresRemoveOnce: of two concurrent Removes of one live record
// through two Stores on one directory, exactly one reports it live. The
// Manager refuses a Renew that races with a Destroy on that promise; with a
// lock per Store, both Removes saw the record in almost every round.
func TestTwoStoresRemoveOnce(t *testing.T) {
	a, b := twoStores(t)
	const rounds = 100
	bad := 0
	for i := range rounds {
		id := testID("remove " + strconv.Itoa(i))
		mustNil(t, a.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"user": []byte("alice")}}, time.Hour))
		errs := together(
			func() error { return a.Remove(bg, id, time.Hour) },
			func() error { return b.Remove(bg, id, time.Hour) },
		)
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, sessions.ErrNotFound):
				t.Fatalf("round %d: Remove gave %v", i, err)
			}
		}
		if wins != 1 {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("in %d of %d rounds, not exactly one of two concurrent Removes through two Stores reported the record live", bad, rounds)
	}
}

// TestTwoStoresMergeWrites writes 100 keys of one record at once, each
// through one of two Stores on one directory: every key must persist. A
// lock that does not reach the other Store lets a Write read the record
// before the other's rename and drop its key.
func TestTwoStoresMergeWrites(t *testing.T) {
	a, b := twoStores(t)
	id := testID("merge")
	mustNil(t, a.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"user": []byte("alice")}}, time.Hour))
	const writes = 100
	fns := make([]func() error, writes)
	for i := range fns {
		s := []*Store{a, b}[i%2]
		ch := sessions.Change{Set: sessions.Record{"k" + strconv.Itoa(i): []byte("1")}}
		fns[i] = func() error { return s.Write(bg, id, ch, time.Hour) }
	}
	for i, err := range together(fns...) {
		if err != nil {
			t.Fatalf("Write %d gave %v", i, err)
		}
	}
	rec, err := b.Read(bg, id)
	mustNil(t, err)
	lost := 0
	for i := range writes {
		if _, ok := rec["k"+strconv.Itoa(i)]; !ok {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d concurrent writes through two Stores were lost", lost, writes)
	}
}

// TestLockWaitHonoursContext: a Write that waits for the lock another Store
// holds gives up when its context ends, and leaves nothing held behind.
func TestLockWaitHonoursContext(t *testing.T) {
	a, b := twoStores(t)
	id := testID("held elsewhere")
	_, unlock, err := b.lock(bg, id)
	mustNil(t, err)
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	set := sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}
	if err := a.Write(ctx, id, set, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a Write waiting for a lock another Store holds gave %v when its context expired, want DeadlineExceeded", err)
	}
	unlock()
	mustNil(t, a.Write(bg, id, set, time.Hour))
	mustNil(t, b.Write(bg, id, set, time.Hour))
	if n := a.locks.len() + b.locks.len(); n != 0 {
		t.Errorf("%d in-process locks left, want 0", n)
	}
}

// TestLockHeldByAnotherProcess runs a child process that takes the lock of
// one id and keeps it: a Write here must wait for it, and must get it once
// the child is killed, since the kernel drops a dead process's locks.
func TestLockHeldByAnotherProcess(t *testing.T) {
	s := newTestStore(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+modeHold+" "+s.dir)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	mustNil(t, err)
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	mustNil(t, err)
	mustNil(t, cmd.Start())
	drained := waitForLine(t, out, "locked", stderr)

	set := sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}
	ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	if err := s.Write(ctx, holdID, set, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a Write while another process holds the lock gave %v, want DeadlineExceeded", err)
	}
	mustNil(t, cmd.Process.Kill())
	<-drained
	cmd.Wait()
	ctx, cancel = context.WithTimeout(bg, 30*time.Second) // a hang bound
	defer cancel()
	if err := s.Write(ctx, holdID, set, time.Hour); err != nil {
		t.Errorf("a Write after the holding process was killed gave %v", err)
	}
}

// waitForLine reads r until a line equal to want, failing the test if r
// ends first or 30 s pass (a hang bound). It goes on reading r after that,
// and closes the channel it returns once r ends: exec.Cmd.Wait must not
// run before.
func waitForLine(t *testing.T, r io.Reader, want string, stderr fmt.Stringer) <-chan struct{} {
	t.Helper()
	found, drained := make(chan bool, 1), make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if sc.Text() == want {
				found <- true
				io.Copy(io.Discard, r)
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("the child ended before it printed %q; its stderr: %s", want, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the child did not print %q within 30s; its stderr: %s", want, stderr)
	}
	return drained
}

// TestLockSurvivesLockFileDeletion: the sweeper deletes a lock file, as the
// last step under its lock, while other Stores may have opened it and wait
// for it. Each holder here ends the same way, so most waiters get a lock on
// a file no longer at its path; the lock must still admit one holder at a
// time, which a counter read and written back under it shows.
func TestLockSurvivesLockFileDeletion(t *testing.T) {
	a, b := twoStores(t)
	stem := testID("deleted lock file")
	counter := filepath.Join(t.TempDir(), "counter")
	mustNil(t, os.WriteFile(counter, []byte("0"), 0o600))
	const goroutines, rounds = 8, 50
	fns := make([]func() error, goroutines)
	for i := range fns {
		s := []*Store{a, b}[i%2]
		fns[i] = func() error {
			for range rounds {
				unlock, err := s.lockName(bg, stem)
				if err != nil {
					return err
				}
				err = increment(counter)
				s.dropLockFile(stem)
				unlock()
				if err != nil {
					return err
				}
			}
			return nil
		}
	}
	for _, err := range together(fns...) {
		mustNil(t, err)
	}
	data, err := os.ReadFile(counter)
	mustNil(t, err)
	if got := string(data); got != strconv.Itoa(goroutines*rounds) {
		t.Errorf("%d increments under the lock left the counter at %s: two holders overlapped", goroutines*rounds, got)
	}
}

// increment adds one to the number in the file at path, in a read and a
// write that a lock must keep from interleaving.
func increment(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strconv.Itoa(n+1)), 0o600)
}
