// Package sessions is net/http session middleware whose logout sticks.
//
// The browser holds only a random session ID in a cookie; the data lives in a
// Store on the server: NewMemoryStore for one process, the module
// github.com/sessionkit/sessions/redisstore for Redis (a single node,
// Sentinel or Redis Cluster), the SQL stores, or your own. Wrap a handler
// with a Manager and call Get in the handlers:
//
//	m := sessions.New(sessions.NewMemoryStore())
//	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//		s := sessions.Get(r)
//		s.Set("visits", s.GetInt("visits")+1)
//	})
//	http.ListenAndServe(":8080", m.Handler(mux))
//
// # What it guarantees
//
// Requests on one session are never serialized by a lock; the store's atomic
// writes resolve their races. A logout sticks, also against a request in
// flight and a Renew that races it; a Login binds the session to a user, so
// that Manager.DestroyUser logs the user out everywhere with the same
// guarantee; only the keys a request changed are written; a request costs
// no store call unless it uses its session, and at most one read and one
// write when it reads and changes values (a Renew, a Login or a Destroy
// cost a few calls more, each stated on its method); changes are committed
// before the response headers, without buffering. The README states each
// guarantee (G1 to G13), and each is a test that fails without it.
//
// # Users and devices
//
// Session.Login binds a session to a user and gives it a fresh ID.
// Manager.UserSessions lists a user's live sessions for a devices page,
// Manager.DestroySession revokes one, Session.DestroyOthers ends all but the
// current one, and Manager.DestroyUser ends them all, from a request or from
// a job. The Manager keeps each user's index in the session Store itself,
// under a key no session can take, so any Store gets them.
//
// # Errors and bad input
//
// A store failure goes to the error handler (by default a 500 response) and
// a log record; it never panics and never drops a write silently. A cookie
// that is not a well-formed ID, an ID the store does not know, and a corrupt
// record all give an empty new session, which gets a fresh ID if the handler
// writes to it. Log records name a session by the first 12 hex digits of its
// handle, never by its ID, and carry no stored value. Levels: Error for store failures, Warn for corrupt records and values
// that do not decode, Info for malformed cookies and writes refused because
// the session was destroyed, Debug for unknown or expired IDs.
//
// # Writing a Store
//
// A Store keeps records, each a map from key to encoded value, and applies a
// Change atomically: see the Store interface for every case, Change.Apply for
// stores that keep a session as one blob, and the package sessionstest for
// the conformance suite (sessionstest.Run) and the guarantees over real HTTP
// (sessionstest.RunHTTP), each one call.
package sessions
