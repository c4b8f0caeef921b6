// Package kit holds what the comparison benchmarks and the load test share:
// each library configured the same way, the same handlers written in each
// library's own API, and a go-redis hook that counts commands.
package kit

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The settings every library gets, so that the comparison is fair: a
// sliding idle timeout of 30 minutes within an absolute lifetime of 24
// hours, and the same cookie (name, Path=/, Secure, HttpOnly, SameSite=Lax,
// persistent).
const (
	IdleTimeout   = 30 * time.Minute
	TouchInterval = time.Minute
	Lifetime      = 24 * time.Hour
	CookieName    = "__Host-session"
)

// Op is what a handler does with its session.
type Op int

const (
	Untouched Op = iota // never touches the session
	Read                // reads the string under "user"
	Write               // sets "n" to a new value without reading anything
	ReadWrite           // reads the counter "n" and writes back n+1
	New                 // sets "user" (sent without a cookie: a new session)
	Destroy             // destroys the session (log out)
	Renew               // gives the session a new ID, keeping its values (log in)
	Seed                // creates the session the others start from: user, role, n=1
	SetKV               // sets the key and value given by the query's k and v
	Dump                // writes every value as "key=value\n", sorted by key
)

var opNames = [...]string{"Untouched", "Read", "Write", "ReadWrite", "New", "Destroy", "Renew", "Seed", "SetKV", "Dump"}

func (op Op) String() string {
	if op >= 0 && int(op) < len(opNames) {
		return opNames[op]
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

var writeSeq atomic.Int64

// NextValue returns the value that Write stores: unique within the process,
// so that no write is ever a no-op.
func NextValue() int { return int(writeSeq.Add(1)) }

// LastValue returns the value NextValue returned last.
func LastValue() int { return int(writeSeq.Load()) }

// Lib is one library, set up on one store, with a handler for each Op.
type Lib struct {
	Name  string // "ours", "scs" or "gorilla"
	Store string // "memory", "redis" or "cookie" (client-side)

	handlers map[Op]http.Handler
	closers  []func()
}

// Handler returns the library's complete request path for op (middleware,
// handler and commit), or nil when the library cannot do op.
func (l *Lib) Handler(op Op) http.Handler { return l.handlers[op] }

// Close stops what the library started (sweepers).
func (l *Lib) Close() {
	for _, f := range l.closers {
		f()
	}
}

// Label is the library and store, e.g. "scs/redis".
func (l *Lib) Label() string { return l.Name + "/" + l.Store }

// SessionCookie returns the value of the session cookie that h sets, or ""
// when it sets none (a deleting cookie does not count).
func SessionCookie(h http.Header) string {
	v := ""
	for _, line := range h["Set-Cookie"] {
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Name != CookieName || c.MaxAge < 0 || c.Value == "" {
			continue
		}
		v = c.Value
	}
	return v
}

// ParseDump parses the body that Dump writes.
func ParseDump(body string) map[string]string {
	out := make(map[string]string)
	for _, line := range strings.Split(body, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

// Counter is a go-redis hook that counts the commands a client sends and
// the round trips they take: a pipeline or a MULTI/EXEC transaction is
// several commands in one round trip. Add it with client.AddHook.
type Counter struct {
	n, trips atomic.Int64
	names    sync.Map // the names of the commands sent, as keys
}

// Names returns the names of the commands counted since ResetNames, in lower case
// as go-redis gives them (a script's own calls are not among them).
func (c *Counter) Names() []string {
	var out []string
	c.names.Range(func(k, _ any) bool {
		out = append(out, k.(string))
		return true
	})
	return out
}

// ResetNames forgets the names counted so far.
func (c *Counter) ResetNames() { c.names.Clear() }

func (c *Counter) saw(name string) {
	if _, ok := c.names.Load(name); !ok {
		c.names.Store(name, struct{}{})
	}
}

// Load returns the number of commands counted so far.
func (c *Counter) Load() int64 { return c.n.Load() }

// Trips returns the number of round trips counted so far.
func (c *Counter) Trips() int64 { return c.trips.Load() }

// DialHook passes dials through.
func (c *Counter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook counts one command in one round trip.
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		c.trips.Add(1)
		c.saw(cmd.Name())
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts every command of a pipeline or transaction,
// and one round trip.
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		c.trips.Add(1)
		for _, cmd := range cmds {
			c.saw(cmd.Name())
		}
		return next(ctx, cmds)
	}
}

// NewRedisClient returns a client for addr with a pool of poolSize
// connections and a Counter hooked in. Every library gets a client made
// here, so they all run on the same client settings.
func NewRedisClient(addr string, poolSize int) (*redis.Client, *Counter) {
	c := redis.NewClient(&redis.Options{
		Addr:            addr,
		PoolSize:        poolSize,
		MinIdleConns:    0,
		DisableIdentity: true, // no CLIENT SETINFO on each new connection
	})
	n := &Counter{}
	c.AddHook(n)
	return c, n
}

// DeleteKeys deletes every key that starts with prefix, and returns how
// many there were. It never touches other keys, so it is safe on a shared
// Redis.
func DeleteKeys(ctx context.Context, c redis.UniversalClient, prefix string) (int, error) {
	var cursor uint64
	n := 0
	for {
		keys, next, err := c.Scan(ctx, cursor, escapeGlob(prefix)+"*", 1000).Result()
		if err != nil {
			return n, err
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				return n, err
			}
			n += len(keys)
		}
		if next == 0 {
			return n, nil
		}
		cursor = next
	}
}

func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Custom returns a Lib with the given handlers, for the floors.
func Custom(name, store string, handlers map[Op]http.Handler) *Lib {
	return &Lib{Name: name, Store: store, handlers: handlers}
}
