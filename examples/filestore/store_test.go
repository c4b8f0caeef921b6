package filestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sessionstest"
)

var bg = context.Background()

// newTestStore returns a Store on a fresh temporary directory, closed when
// the test ends.
func newTestStore(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := New(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return newTestStore(t) })
}

// testID returns the handle the Manager would use for a session named by
// seed.
func testID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:])
}

func TestInvalidIDsAreRefused(t *testing.T) {
	s := newTestStore(t)
	h := testID("x")
	for _, id := range []string{
		"", "..", "../" + h[3:], strings.ToUpper(h), h + "0", h[1:], "x:" + h,
		"s:" + h[1:], "s:" + h + "0", "s/" + h, "u:" + strings.ToUpper(h), "s:s:" + h[4:],
	} {
		if _, err := s.Read(bg, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Read(%q) gave %v, want ErrInvalidID", id, err)
		}
		if err := s.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}, time.Minute); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Write(%q) gave %v, want ErrInvalidID", id, err)
		}
		if err := s.Remove(bg, id, time.Minute); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Remove(%q) gave %v, want ErrInvalidID", id, err)
		}
		if _, err := s.Exists(bg, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Exists(%q) gave %v, want ErrInvalidID", id, err)
		}
	}
	if entries, _ := os.ReadDir(s.dir); len(entries) != 0 {
		t.Errorf("refused ids left %d files in the directory", len(entries))
	}
}

// TestUndecodableFileIsCorrupt overwrites a record file with what a
// truncating writer leaves behind: nothing, half a file, a file with one
// byte changed.
func TestUndecodableFileIsCorrupt(t *testing.T) {
	s := newTestStore(t)
	id := testID("corrupt")
	good := encode(magicRecord, time.Now().Add(time.Hour).UnixNano(), sessions.Record{"user": []byte("alice")})
	flipped := append([]byte{}, good...)
	flipped[len(flipped)/2] ^= 1
	for name, data := range map[string][]byte{"empty": nil, "half": good[:len(good)/2], "flipped": flipped, "foreign": []byte("{}")} {
		if err := os.WriteFile(filepath.Join(s.dir, id+recordSuffix), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Read(bg, id); !errors.Is(err, sessions.ErrCorrupt) {
			t.Errorf("%s file: Read gave %v, want an error wrapping ErrCorrupt", name, err)
		}
		if ok, err := s.Exists(bg, id); ok || err != nil {
			t.Errorf("%s file: Exists gave %v, %v, want false, nil", name, ok, err)
		}
		if err := s.Write(bg, id, sessions.Change{Set: sessions.Record{"a": []byte("1")}}, time.Minute); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("%s file: a delta Write gave %v, want ErrNotFound", name, err)
		}
	}
	if err := s.Write(bg, id, sessions.Change{Mode: sessions.ModeUpsert, Set: sessions.Record{"a": []byte("1")}}, time.Minute); err != nil {
		t.Fatalf("a Create over a corrupt file gave %v, want nil", err)
	}
	if rec, err := s.Read(bg, id); err != nil || string(rec["a"]) != "1" {
		t.Errorf("after a Create over a corrupt file, Read gave %v, %v", rec, err)
	}
}

// TestTombstoneBesideRecord is the state a crash between the two steps of
// Remove leaves: the record must read as removed, refuse writes, and a
// later Remove must not report it live.
func TestTombstoneBesideRecord(t *testing.T) {
	s := newTestStore(t)
	id := testID("crashed remove")
	if err := s.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"user": []byte("alice")}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(s.path(id+tombSuffix), encode(magicTomb, time.Now().Add(time.Hour).UnixNano(), nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(bg, id); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read gave %v, want ErrNotFound", err)
	}
	if err := s.Write(bg, id, sessions.Change{Set: sessions.Record{"a": []byte("1")}}, time.Hour); !errors.Is(err, sessions.ErrInvalidated) {
		t.Errorf("Write gave %v, want ErrInvalidated", err)
	}
	if err := s.Remove(bg, id, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Remove gave %v, want ErrNotFound", err)
	}
}

// TestReadersNeverSeeAPartialRecord reads a session while it is rewritten:
// every Read must return the whole record, never an empty or torn one.
func TestReadersNeverSeeAPartialRecord(t *testing.T) {
	s := newTestStore(t)
	id := testID("readers")
	write := func(n int) error {
		ch := sessions.Change{Set: countRecord(n, 16<<10)}
		if n == 0 {
			ch.Mode = sessions.ModeReplace
		}
		return s.Write(bg, id, ch, time.Hour)
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				rec, err := s.Read(bg, id)
				if err == nil {
					_, err = checkCount(rec)
				}
				if err != nil {
					t.Errorf("a Read during rewrites gave %v", err)
					return
				}
			}
		}()
	}
	for n := 1; n <= 100 && !t.Failed(); n++ {
		if err := write(n); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}

// countRecord is a session whose counter is n, with a pad of size bytes
// that repeats n, so that a torn record cannot pass checkCount.
func countRecord(n, size int) sessions.Record {
	return sessions.Record{
		"n":   []byte(strconv.Itoa(n)),
		"pad": []byte(strings.Repeat(string(rune('a'+n%26)), size)),
	}
}

// checkCount returns the counter of a record made by countRecord, or an
// error if the record is not one.
func checkCount(rec sessions.Record) (int, error) {
	n, err := strconv.Atoi(string(rec["n"]))
	if err != nil {
		return 0, errors.New("the counter is missing or not a number")
	}
	pad := rec["pad"]
	if len(pad) == 0 || strings.Trim(string(pad), string(rune('a'+n%26))) != "" {
		return 0, errors.New("the pad does not match the counter")
	}
	return n, nil
}

func TestLocksAreDroppedAndHonourContext(t *testing.T) {
	s := newTestStore(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := testID(strconv.Itoa(i % 3))
			for range 20 {
				s.Write(bg, id, sessions.Change{Mode: sessions.ModeUpsert, Set: sessions.Record{strconv.Itoa(i): []byte("1")}}, time.Hour)
			}
		}()
	}
	wg.Wait()
	if n := s.locks.len(); n != 0 {
		t.Errorf("%d locks left after every Write returned, want 0", n)
	}

	id := testID("held")
	unlock, err := s.locks.lock(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	if err := s.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace}, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a Write waiting for a held lock gave %v when its context expired, want DeadlineExceeded", err)
	}
	unlock()
	if n := s.locks.len(); n != 0 {
		t.Errorf("%d locks left after a cancelled wait, want 0", n)
	}
}

func TestSweeperDeletesExpiredFiles(t *testing.T) {
	orphanAge := func(o *options) { o.orphanAge = time.Minute }
	s := newTestStore(t, WithSweepInterval(10*time.Millisecond), orphanAge)
	short, long := 50*time.Millisecond, time.Hour
	set := sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"a": []byte("1")}}
	mustNil(t, s.Write(bg, testID("expiring"), set, short))
	mustNil(t, s.Write(bg, "u:"+testID("live"), set, long))
	s.Remove(bg, testID("expiring tomb"), short)
	s.Remove(bg, "s:"+testID("live tomb"), long)
	// A delta to an unknown id leaves a lock file and nothing else.
	s.Write(bg, testID("unknown"), sessions.Change{Set: sessions.Record{"a": []byte("1")}}, long)
	old := time.Now().Add(-time.Hour)
	for _, name := range []string{tempPrefix + "orphan", testID("garbage") + recordSuffix, tempPrefix + "young", "foreign"} {
		mustNil(t, os.WriteFile(s.path(name), []byte("x"), 0o600))
		if !strings.Contains(name, "young") && name != "foreign" {
			mustNil(t, os.Chtimes(s.path(name), old, old))
		}
	}
	want := []string{
		tempPrefix + "young", "foreign",
		"s_" + testID("live tomb") + lockSuffix, "s_" + testID("live tomb") + tombSuffix,
		"u_" + testID("live") + lockSuffix, "u_" + testID("live") + recordSuffix,
	}
	sort.Strings(want)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := dirNames(t, s.dir)
		if strings.Join(got, " ") == strings.Join(want, " ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s of sweeps the directory holds %q, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Close()
	s.Close()
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestNegativeSweepIntervalRunsNoSweeper: a negative interval turns the
// sweeper off, as it does for every store of this repository, and Close
// still returns.
func TestNegativeSweepIntervalRunsNoSweeper(t *testing.T) {
	s, err := New(t.TempDir(), WithSweepInterval(-1))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("a sweeper runs with a negative interval")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
