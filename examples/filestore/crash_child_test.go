package filestore

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sessionkit/sessions"
)

// crashChild is the child process of the crash tests: one goroutine per
// session, each writing the session's next counter forever and printing
// "<session> <counter>" once the write has returned. It prints "ready" once
// every goroutine has read its starting state. It returns an exit code.
func crashChild(mode, dir string) int {
	s, err := New(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// The child never outlives the test: it exits when the parent closes,
	// or loses, the other end of stdin.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	time.AfterFunc(time.Minute, func() { os.Exit(4) })
	if mode == modeHold {
		return holdChild(s)
	}
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	put := putter(mode, s, say)
	ids := crashIDs()
	if mode == modeForced {
		ids = ids[:1]
	}
	var started sync.WaitGroup
	for i, id := range ids {
		started.Add(1)
		go func() {
			rec, err := s.Read(bg, id)
			n, err2 := checkCount(rec)
			started.Done()
			if err != nil || err2 != nil {
				fmt.Fprintln(os.Stderr, "start:", err, err2)
				os.Exit(2)
			}
			for {
				n++
				if err := put(id, n); err != nil {
					fmt.Fprintln(os.Stderr, "write:", err)
					os.Exit(2)
				}
				say("%d %d", i, n)
			}
		}()
	}
	started.Wait()
	say("ready")
	select {}
}

// holdID is the id whose lock the child of TestLockHeldByAnotherProcess
// holds.
var holdID = testID("held by another process")

// holdChild takes the lock of holdID, prints "locked", and keeps the lock
// until the process ends.
func holdChild(s *Store) int {
	if _, _, err := s.lock(bg, holdID); err != nil {
		fmt.Fprintln(os.Stderr, "lock:", err)
		return 2
	}
	fmt.Println("locked")
	select {}
}

// putter returns the function that writes a session's counter n in mode.
func putter(mode string, s *Store, say func(string, ...any)) func(id string, n int) error {
	switch mode {
	case modeBroken:
		return brokenPut(s, nil)
	case modeForced:
		return brokenPut(s, func() {
			say("truncated")
			select {}
		})
	}
	return func(id string, n int) error {
		return s.Write(bg, id, sessions.Change{Set: countRecord(n, crashPad)}, time.Hour)
	}
}

// brokenPut is the deliberately broken writer: read, apply, then truncate
// the live file and write the new record into it, as os.WriteFile does.
// Each session has one writer goroutine, so it needs no lock; it is broken
// only in how it writes. pause, if set, runs between truncation and write.
func brokenPut(s *Store, pause func()) func(id string, n int) error {
	return func(id string, n int) error {
		rec, err := s.Read(bg, id)
		if err != nil {
			return err
		}
		rec = sessions.Change{Set: countRecord(n, crashPad)}.Apply(rec)
		data := encode(magicRecord, time.Now().Add(time.Hour).UnixNano(), rec)
		f, err := os.OpenFile(s.path(id+recordSuffix), os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		if pause != nil {
			pause()
		}
		_, err = f.Write(data)
		return err
	}
}
