//go:build unix && !solaris && !aix

package filestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// errPlatform is nil where flock(2) exists.
var errPlatform error

// lockFile takes an exclusive flock(2) on the lock file at path, creating
// it if needed, and returns the function that lets it go.
//
// A flock is what makes the lock reach past one Store: every process that
// opens the directory sees it, and, unlike an fcntl lock, it belongs to the
// open file rather than to the process, so two Stores in one process
// exclude each other too. The kernel drops it when its holder dies, so a
// crashed process never leaves a record locked.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("filestore: %w", err)
		}
		if err := flock(ctx, f); err != nil {
			return nil, err
		}
		same, err := stillAt(f, path)
		if same {
			return func() { funlock(f) }, nil
		}
		funlock(f)
		if err != nil {
			return nil, err
		}
	}
}

// stillAt reports whether f is still the file at path. The sweeper deletes
// a lock file that has no record left, under its lock; whoever opened the
// file before that and got the lock after it holds a lock that no later
// opener sees, and must start again on the file now at path.
func stillAt(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("filestore: %w", err)
	}
	now, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("filestore: %w", err)
	}
	return os.SameFile(held, now), nil
}

// flock waits for an exclusive flock on f, or until ctx ends. A flock(2)
// that blocks cannot be called off, so the wait runs on a goroutine of its
// own; if ctx ends first, that goroutine keeps f and lets the lock go as
// soon as it gets it. On an error, f is closed, now or then.
func flock(ctx context.Context, f *os.File) error {
	err := flockSys(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil || !errors.Is(err, syscall.EWOULDBLOCK) {
		return closeOnError(f, err)
	}
	got := make(chan error, 1)
	go func() { got <- flockSys(f, syscall.LOCK_EX) }()
	select {
	case err := <-got:
		return closeOnError(f, err)
	case <-ctx.Done():
		go func() {
			<-got
			funlock(f)
		}()
		return ctx.Err()
	}
}

func closeOnError(f *os.File, err error) error {
	if err != nil {
		f.Close()
		return fmt.Errorf("filestore: flock: %w", err)
	}
	return nil
}

// funlock lets the lock on f go and closes f. The explicit unlock matters:
// a child process forked between the open and its exec shares the open
// file, and closing ours alone would leave the lock held until it execs.
func funlock(f *os.File) {
	flockSys(f, syscall.LOCK_UN)
	f.Close()
}

// flockSys calls flock(2) on f's descriptor, again when a signal
// interrupts it.
func flockSys(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		for {
			if ferr = syscall.Flock(int(fd), how); ferr != syscall.EINTR {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return ferr
}
