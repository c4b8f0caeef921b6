// Package redisstore is a sessions.Store that keeps sessions in Redis,
// through any go-redis v9 redis.UniversalClient: a single server
// (*redis.Client), a Sentinel-managed primary (redis.NewFailoverClient or
// NewFailoverClusterClient) or a Redis Cluster (*redis.ClusterClient).
//
//	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
//	store := redisstore.New(client)
//	if err := store.Ping(ctx); err != nil {
//		log.Fatal(err)
//	}
//	m := sessions.New(store)
//
// # Layout
//
// A session's record is a hash under <prefix>{<k>}, one field per session
// key, with the values stored as the Manager's codec encoded them (JSON by
// default, readable in redis-cli). The prefix defaults to "session:" (see
// WithKeyPrefix) and k is the id the store is given: the session's handle,
// the hex SHA-256 of its ID, so that a leaked key listing hands out no live
// cookies, or the key of one of the Manager's own records (a user's index
// "u:...", a session's successors "s:..."). The braces are a Redis Cluster
// hash tag.
//
// A removed session leaves a tombstone in the same key: the hash then holds
// only the field "__tomb", and its TTL is the tombstone's. So one HGETALL
// sees the record and the tombstone together, and a read is one command.
// A Write refuses a Change that sets "__tomb" (the Manager never uses it).
//
// # Keys of another type
//
// The store writes only hashes under its prefix. A key there of another
// type was written by someone else (another program sharing the prefix, or
// a hand in redis-cli), and the store never deletes it: Read, Write, Remove
// and Exists on it fail with an error that wraps sessions.ErrCorrupt and
// names the key, as Redis itself answers WRONGTYPE, and change nothing. The
// Manager treats a session whose Read fails so as missing and starts a new
// one under a fresh ID; a request that writes to it without reading first
// gets the error handler's response. Give every program its own prefix.
//
// # Expiry
//
// Records and tombstones expire through Redis TTLs; nothing needs sweeping.
// The Manager passes Write a ttl of min(idle timeout, remaining absolute
// lifetime), and every Write, including a touch, sets the record's TTL to
// it. A request that only writes has not read the session's lifetime, so it
// passes the idle timeout: the write script caps the TTL at the deadline the
// record keeps under "__deadline", read with the server's clock, and
// refuses a delta to a record past it as a write to a missing record.
// Remove is given a ttl of at least the absolute lifetime, so the tombstone
// outlives every cookie that could still carry the ID. A tombstone is never
// shortened: Remove keeps an existing tombstone's longer TTL.
//
// # Round trips and routing
//
// Read, Write, Remove and Exists are one round trip each. Write, Remove and
// Exists are one Lua script each, sent with EVALSHA; the first call of a
// script on a server that has not cached it yet costs one more round trip
// (EVALSHA answered by NOSCRIPT, then EVAL), which LoadScripts avoids at
// start-up. Scripts always run on the primary.
//
// Read is one HGETALL where go-redis sends it to the primary: a
// *redis.Client (a single server, or NewFailoverClient without
// ReplicaOnly), a *redis.Ring, and a *redis.ClusterClient without ReadOnly,
// RouteByLatency or RouteRandomly. A ClusterClient with one of those
// (NewFailoverClusterClient and NewUniversalClient with them included)
// would send HGETALL to a replica, whose copy of a session removed a moment
// ago may still be live; there, and for any other UniversalClient, Read is
// an EVALSHA of a script that runs that HGETALL on the primary: still one
// round trip, and one more Lua call for Redis. NewFailoverClient with
// ReplicaOnly connects to a replica for every command, so writes fail: do
// not use it for sessions.
//
// # Deployment
//
// Use a maxmemory policy that does not evict keys with a TTL (noeviction,
// or allkeys-* with room to spare), since an evicted tombstone no longer
// refuses writes; and Redis 5 or later (the write script reads TIME before
// writing). With noeviction, a full Redis still serves reads of existing
// sessions, a Remove of a live session and a touch; writes that add data
// fail with Redis's OOM error, which reaches the Manager's error handler.
// A tombstone written by Remove lives on the primary at once; replicas get
// it asynchronously, unless WithWaitReplicas is set. The module's README
// says which faults lose a logout under which settings.
//
// # Timeouts
//
// The Manager bounds each store call with its commit timeout
// (sessions.WithCommitTimeout) through the call's context. go-redis honours
// a context's deadline on the connection only with ContextTimeoutEnabled
// set in the client's options; otherwise its own ReadTimeout and
// WriteTimeout (3 s by default) bound a hung server, so keep them below the
// commit timeout.
//
// # Failures
//
// Call Ping at start-up: it finds an unreachable server, a refused
// password or a server without Lua scripts before the first request does.
//
// A call that runs out of time while the client cannot connect fails with
// go-redis's bare "context deadline exceeded": go-redis keeps dialing in
// the background and drops the dial's error. So New adds a hook to the
// client (to each node's client that a ClusterClient or a Ring creates from
// then on) that keeps the last failed connection attempt, and an error
// that is a context's end also names that attempt, unless one succeeded
// since: "redisstore: read: context deadline exceeded; the last attempt to
// connect, 80ms ago, failed: dial tcp 10.0.0.7:6379: connect: connection
// refused". errors.Is finds both. A ClusterClient with RouteByLatency gets
// no such hook, and its errors say what go-redis says: go-redis probes a
// new node's latency before a hook could be added to it safely.
package redisstore
