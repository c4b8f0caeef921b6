package redisstore

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// closedAddr returns the address of a local TCP port that was just
// listened on and closed, where a connection is refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// refusedStore returns a Store whose client points at a closed port,
// after one call that waited for go-redis to give up dialing, so that the
// refused connection is known before the calls under test start.
func refusedStore(t *testing.T) *Store {
	t.Helper()
	// No retries of a command: each call is one attempt to get a
	// connection. go-redis dials for that in the background, twice, a
	// second apart, so a call with a shorter deadline ends on it, and
	// whatever the default backoff is.
	client := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1,
		DialerRetries: 2, DialerRetryTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	st := New(client)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hang guard
	defer cancel()
	if _, err := st.Read(ctx, testID(t)); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Read on a closed port: %v, want the refused connection", err)
	}
	return st
}

// TestDeadlineErrorNamesRefusedConnection: a call that runs out of
// time while Redis refuses connections says both, and is still a
// context.DeadlineExceeded to errors.Is. go-redis itself reports only
// "context deadline exceeded": its dial goes on in the background, where
// the refusal stays.
func TestDeadlineErrorNamesRefusedConnection(t *testing.T) {
	st := refusedStore(t)
	id := testID(t)
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Read", func(ctx context.Context) error { _, err := st.Read(ctx, id); return err }},
		{"Write", func(ctx context.Context) error {
			return st.Write(ctx, id, sessions.Change{Mode: sessions.ModeReplace}, time.Hour)
		}},
		{"Remove", func(ctx context.Context) error { return st.Remove(ctx, id, time.Hour) }},
		{"Exists", func(ctx context.Context) error { _, err := st.Exists(ctx, id); return err }},
		{"Ping", func(ctx context.Context) error { return st.Ping(ctx) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			// go-redis's dial goes on for two seconds in the background,
			// so the call ends on its deadline, not on the dial's error.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err := c.call(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: %v, want an error that is context.DeadlineExceeded", c.name, err)
			}
			if !strings.Contains(err.Error(), "connection refused") {
				t.Fatalf("%s: %q does not name the refused connection", c.name, err)
			}
		})
	}
}

// TestPing: Ping passes on a server that runs the store's scripts, at
// the cost of a PING and the SCRIPT LOADs.
func TestPing(t *testing.T) {
	forEachRedis(t, func(t *testing.T, e *testEnv) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hang guard
		defer cancel()
		st := e.store()
		e.calls.take()
		if err := st.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		// On a cluster SCRIPT LOAD goes to each master's own client, which
		// the counter does not see.
		calls := e.calls.take()
		if len(calls) == 0 || calls[0] != "ping" || len(calls) > 5 {
			t.Fatalf("Ping sent %q, want a PING and at most 4 SCRIPT LOADs", calls)
		}
		for _, name := range calls[1:] {
			if name != "script" {
				t.Fatalf("Ping sent %q, want a PING and at most 4 SCRIPT LOADs", calls)
			}
		}
	})
}

// TestPingNamesRefusedConnection: Ping at start-up tells that nothing
// listens where the client points.
func TestPingNamesRefusedConnection(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1})
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hang guard
	defer cancel()
	err := New(client).Ping(ctx)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Ping of a closed port: %v, want an error naming the refused connection", err)
	}
}
