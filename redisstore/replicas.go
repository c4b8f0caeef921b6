package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated is wrapped by the error Store.Remove returns when fewer
// replicas than WithWaitReplicas asks for acknowledged the tombstone in
// time. The tombstone is on the primary all the same.
var ErrNotReplicated = errors.New("redisstore: not acknowledged by enough Redis replicas")

// removeReplicated runs remove.lua and WAIT in one pipeline on the
// connection of the key's primary. It returns the script's result. On a
// cluster the pipeline goes to the master's own client: WAIT has no key to
// route it by, and a ClusterClient pipeline that followed a MOVED for the
// script alone would leave WAIT on a connection that wrote nothing, where
// it succeeds at once. A stale slot map makes the script fail instead.
func (s *Store) removeReplicated(ctx context.Context, key string, ttlMillis int64) (int64, error) {
	var node *redis.Client
	switch c := s.client.(type) {
	case *redis.Client:
		node = c
	case *redis.ClusterClient:
		var err error
		if node, err = c.MasterForKey(ctx, key); err != nil {
			return 0, err
		}
	}
	res, acked, err := s.removeAndWait(ctx, node, false, key, ttlMillis)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		res, acked, err = s.removeAndWait(ctx, node, true, key, ttlMillis)
	}
	if err != nil {
		return 0, err
	}
	if acked < int64(s.opts.waitReplicas) {
		return 0, fmt.Errorf("the tombstone reached %d of %d replicas within %v: %w", acked, s.opts.waitReplicas, s.opts.waitTimeout, ErrNotReplicated)
	}
	return res, nil
}

// removeAndWait sends the pipeline of removeReplicated, with EVALSHA, or
// with EVAL when eval is set (the server lost its script cache).
func (s *Store) removeAndWait(ctx context.Context, node *redis.Client, eval bool, key string, ttlMillis int64) (res, acked int64, err error) {
	pipe := node.Pipeline()
	keys := []string{key}
	var cmd *redis.Cmd
	if eval {
		cmd = removeScript.Eval(ctx, pipe, keys, ttlMillis)
	} else {
		cmd = removeScript.EvalSha(ctx, pipe, keys, ttlMillis)
	}
	wait := pipe.Do(ctx, "wait", s.opts.waitReplicas, s.opts.waitTimeout.Milliseconds())
	_, _ = pipe.Exec(ctx)
	if res, err = cmd.Int64(); err != nil {
		return 0, 0, err
	}
	if acked, err = wait.Int64(); err != nil {
		return 0, 0, err
	}
	return res, acked, nil
}
