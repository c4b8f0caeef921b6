package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// dialWatch is a go-redis hook that keeps the last failed attempt to
// connect, until one succeeds: go-redis dials in the background and drops
// the dial's error, so a call that runs out of time would otherwise say
// only "context deadline exceeded".
type dialWatch struct {
	last atomic.Pointer[dialFailure]
}

// dialFailure is one failed attempt to connect.
type dialFailure struct {
	err error
	at  time.Time
}

// watchDials adds a dialWatch to client, or to the node clients it creates
// from now on, where go-redis dials. A ClusterClient with RouteByLatency
// gets none: go-redis starts each node's latency probes, PINGs, before it
// calls OnNewNode, and AddHook must not run beside a command.
func watchDials(client redis.UniversalClient) *dialWatch {
	w := &dialWatch{}
	switch c := client.(type) {
	case *redis.Client:
		c.AddHook(w)
	case *redis.ClusterClient:
		if c.Options().RouteByLatency {
			break
		}
		c.OnNewNode(func(node *redis.Client) { node.AddHook(w) })
	case *redis.Ring:
		c.OnNewNode(func(node *redis.Client) { node.AddHook(w) })
	}
	return w
}

// DialHook implements redis.Hook.
func (w *dialWatch) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			w.last.Store(&dialFailure{err: err, at: time.Now()})
		} else {
			w.last.Store(nil)
		}
		return conn, err
	}
}

// ProcessHook implements redis.Hook; commands pass as they are.
func (w *dialWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

// ProcessPipelineHook implements redis.Hook; pipelines pass as they are.
func (w *dialWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// explain adds the last failed attempt to connect to err when err is the
// end of the call's context: go-redis then reports the deadline alone,
// though the server refused every connection meanwhile.
func (s *Store) explain(err error) error {
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	f := s.dials.last.Load()
	if f == nil {
		return err
	}
	ago := time.Since(f.at).Round(time.Millisecond)
	return fmt.Errorf("%w; the last attempt to connect, %v ago, failed: %w", err, ago, f.err)
}
