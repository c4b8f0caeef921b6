package redisstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

type options struct {
	prefix       string
	waitReplicas int
	waitTimeout  time.Duration
}

// defaultOptions holds every default of the package.
func defaultOptions() options {
	return options{
		prefix:       "session:",
		waitReplicas: 0,
		waitTimeout:  0,
	}
}

// Option configures a Store; pass it to New.
type Option func(*options)

// WithKeyPrefix sets the prefix of every key the store writes. The default
// is "session:". Use one prefix per application that shares a Redis
// database, so that no two applications write the same keys. The prefix
// must not contain '{' or '}', which would change the Redis Cluster hash
// tag of the keys: New panics if it does.
func WithKeyPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}

// WithWaitReplicas makes every Remove (the tombstone of a Destroy, a Renew,
// a Login, a DestroyUser) wait until n replicas hold it, so that a
// failover cannot undo a logout the user saw succeed. The default is n =
// 0: no waiting, and a failover or a restart can lose the last logouts
// (see the package documentation, Deployment).
//
// The script and a Redis WAIT go in one pipeline on one connection to the
// key's primary, so a Remove is still one round trip, longer by the
// replication delay. When fewer than n replicas acknowledge within
// timeout, Remove returns an error wrapping ErrNotReplicated: the
// tombstone is on the primary and refuses writes there, but a failover
// before it reaches a replica would lose it, so the Manager hands the
// error to its error handler (a 500 by default) and the user can log out
// again.
//
// It needs a *redis.Client (a single server, NewFailoverClient) or a
// *redis.ClusterClient, on which the pipeline goes to the master of the
// key's slot through the node's own client: hooks added with the
// ClusterClient's AddHook do not see it (add them with OnNewNode too).
// The client's ReadTimeout bounds the whole pipeline, and the Manager's
// commit timeout bounds it too when the client has ContextTimeoutEnabled:
// keep timeout below both. New panics if n is negative, or if n > 0 and
// timeout is not positive, is not below the client's ReadTimeout, or the
// client is of another type.
func WithWaitReplicas(n int, timeout time.Duration) Option {
	return func(o *options) { o.waitReplicas, o.waitTimeout = n, timeout }
}

// check panics with the reason when o cannot work with client: a mistake
// in the program, which New reports before the first request.
func (o *options) check(client redis.UniversalClient) {
	if strings.ContainsAny(o.prefix, "{}") {
		panic(fmt.Sprintf("redisstore: New: key prefix %q contains '{' or '}'", o.prefix))
	}
	if o.waitReplicas < 0 || (o.waitReplicas > 0 && o.waitTimeout <= 0) {
		panic(fmt.Sprintf("redisstore: New: WithWaitReplicas(%d, %v): want n >= 0 and a positive timeout", o.waitReplicas, o.waitTimeout))
	}
	if o.waitReplicas > 0 {
		checkWaitClient(client, o.waitTimeout)
	}
}

// checkWaitClient panics unless client can run WAIT on a key's primary
// within its ReadTimeout.
func checkWaitClient(client redis.UniversalClient, timeout time.Duration) {
	var rt time.Duration
	switch c := client.(type) {
	case *redis.Client:
		rt = c.Options().ReadTimeout
	case *redis.ClusterClient:
		rt = c.Options().ReadTimeout
	default:
		panic(fmt.Sprintf("redisstore: New: WithWaitReplicas needs a *redis.Client or a *redis.ClusterClient, not %T", client))
	}
	// After go-redis filled in its defaults, a ReadTimeout <= 0 is none.
	if rt > 0 && timeout >= rt {
		panic(fmt.Sprintf("redisstore: New: the WithWaitReplicas timeout %v is not below the client's ReadTimeout %v, which bounds the WAIT", timeout, rt))
	}
}
