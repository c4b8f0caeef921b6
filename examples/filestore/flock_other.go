//go:build !unix || solaris || aix

package filestore

import (
	"context"
	"errors"
)

// errPlatform refuses a Store where flock(2) is missing: without it the
// lock of a record would not reach other Stores and processes, and two of
// them could both see a session as live and both remove it.
var errPlatform = errors.New("filestore: needs flock(2), which this system lacks")

func lockFile(context.Context, string) (func(), error) { return nil, errPlatform }
