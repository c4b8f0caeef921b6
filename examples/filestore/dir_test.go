package filestore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSharedDirIsRefused: a directory that another user may write to is
// refused at construction, whatever else its mode allows. Whoever can write
// to it can plant a session file, or delete a tombstone to bring a
// logged-out session back.
func TestSharedDirIsRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, os.ModeSticky | 0o777, 0o770, 0o730, 0o702} {
		dir := filepath.Join(t.TempDir(), "sessions")
		mustNil(t, os.Mkdir(dir, 0o700))
		mustNil(t, os.Chmod(dir, mode))
		s, err := New(dir)
		if err == nil {
			s.Close()
			t.Errorf("New accepted a directory of mode %v", mode)
			continue
		}
		if !errors.Is(err, ErrSharedDir) {
			t.Errorf("New on a directory of mode %v gave %v, want an error wrapping ErrSharedDir", mode, err)
		}
	}
}

// TestPrivateDirIsAccepted: a directory only its owner may write to is
// used as it is, and a missing one is created for the owner alone.
func TestPrivateDirIsAccepted(t *testing.T) {
	for _, mode := range []os.FileMode{0o700, 0o750, 0o755} {
		dir := filepath.Join(t.TempDir(), "sessions")
		mustNil(t, os.Mkdir(dir, 0o700))
		mustNil(t, os.Chmod(dir, mode))
		newStoreAt(t, dir)
	}
	dir := filepath.Join(t.TempDir(), "missing", "sessions")
	newStoreAt(t, dir)
	info, err := os.Stat(dir)
	mustNil(t, err)
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("New created the directory with mode %v, want 0700", perm)
	}
}
