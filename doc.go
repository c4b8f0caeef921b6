// Package sessions is net/http session middleware whose logout sticks.
//
// The browser holds only a random session ID in a cookie; the data lives in a
// Store on the server: NewMemoryStore for one process, NewRedisStore for
// Redis (a single node, Sentinel or Redis Cluster), or your own. Wrap a
// handler with a Manager and call Get in the handlers:
//
//	m := sessions.New(sessions.NewMemoryStore())
//	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//		s := sessions.Get(r)
//		s.Set("visits", s.GetInt("visits")+1)
//	})
//	http.ListenAndServe(":8080", m.Handler(mux))
//
// # What it guarantees under concurrency
//
// Requests on one session are never serialized by a lock; the store's atomic
// writes resolve their races:
//
//   - Logout sticks. Destroy leaves a tombstone that the store checks in the
//     same atomic step as every write, so a request still running with the
//     old ID cannot write its session back, and gets no cookie for it.
//   - Renew (call it at log in) moves the data to a fresh ID and tombstones
//     the old one, with the same protection.
//   - Only the keys a request changed are written, so two requests that
//     change different keys both persist. Of two writes to one key, the later
//     wins; Clear replaces the whole record.
//   - A request that never uses its session costs no store call; one that
//     only reads costs one read and no write (except one touch per touch
//     interval under an idle timeout); one that changes it costs one write of
//     the changed keys, and one read only if it reads.
//   - Changes are written before the response headers go out, without
//     buffering the body, and on a context that the client hanging up does
//     not cancel.
//   - Idle timeout and absolute lifetime are enforced on the server, from the
//     store's expiry and the metadata kept in the record, never from the
//     cookie.
//
// # Errors and bad input
//
// A store failure goes to the error handler (by default a 500 response) and
// a log record; it never panics and never drops a write silently. A cookie
// that is not a well-formed ID, an ID the store does not know, and a corrupt
// record all give an empty new session, which gets a fresh ID if the handler
// writes to it. Log records carry a short hash of the session ID, never the
// ID. Levels: Error for store failures, Warn for corrupt records and values
// that do not decode, Info for malformed cookies and writes refused because
// the session was destroyed, Debug for unknown or expired IDs.
//
// # Writing a Store
//
// A Store keeps records, each a map from key to encoded value, and applies a
// Change atomically: see the Store interface for every case, Change.Apply for
// stores that keep a session as one blob, and the package sessionstest for
// the conformance suite that checks an implementation with one call.
package sessions
