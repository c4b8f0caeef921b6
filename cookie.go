package sessions

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// idBytes is the number of random bytes in a session ID: 256 bits.
const idBytes = 32

// idLen is the length of a session ID: idBytes in unpadded base64url.
const idLen = 43

// newID returns a fresh session ID: 256 bits from crypto/rand, unpadded
// base64url.
func newID() (string, error) {
	var b [idBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// validID reports whether s is the canonical encoding of a session ID: 43
// characters of the base64url alphabet whose last character carries no stray
// bits. Anything else is refused before any store call.
func validID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b64Value(s[i]) < 0 {
			return false
		}
	}
	// 43 characters hold 258 bits; the last 2 must be zero in the
	// canonical encoding of 32 bytes.
	return b64Value(s[idLen-1])&3 == 0
}

func b64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}

// handle returns the name of the session with ID id that the store and the
// application see: the lowercase hex SHA-256 of the ID, or "" for no ID.
func handle(id string) string {
	if id == "" {
		return ""
	}
	// Hashing a copy on the stack spares the allocation that converting a
	// 43-byte ID to a []byte costs.
	var in [64]byte
	sum := sha256.Sum256(append(in[:0], id...))
	var b [2 * sha256.Size]byte
	hex.Encode(b[:], sum[:])
	return string(b[:])
}

// idHash returns the first 12 hex digits of the session's handle, for log
// records, so that no log line holds a live ID.
func idHash(id string) string {
	if id == "" {
		return ""
	}
	return handle(id)[:12]
}

// cookieResult tells what the request's cookie header held.
type cookieResult uint8

const (
	cookieAbsent    cookieResult = iota // no cookie of that name
	cookieValid                         // a well-formed ID
	cookieMalformed                     // a cookie of that name, but no well-formed ID
)

// readCookie looks for the cookie called name in the request's Cookie
// headers without allocating. It returns the first value that is a
// well-formed session ID.
func readCookie(h http.Header, name string) (string, cookieResult) {
	res := cookieAbsent
	for _, line := range h["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if n := len(v); n >= 2 && v[0] == '"' && v[n-1] == '"' {
				v = v[1 : n-1]
			}
			if validID(v) {
				return v, cookieValid
			}
			res = cookieMalformed
		}
	}
	return "", res
}

// cookieConfig holds the attributes of the session cookie.
type cookieConfig struct {
	name        string
	domain      string
	path        string
	secure      bool
	httpOnly    bool
	sameSite    http.SameSite
	partitioned bool
	persist     bool
}

// effectiveName returns the cookie name with the __Host- prefix added when
// the cookie qualifies for it (Secure, Path=/, no Domain) and the name has no
// prefix of its own.
func (c *cookieConfig) effectiveName() string {
	if c.secure && c.path == "/" && c.domain == "" &&
		!strings.HasPrefix(c.name, "__Host-") && !strings.HasPrefix(c.name, "__Secure-") {
		return "__Host-" + c.name
	}
	return c.name
}

// header returns the Set-Cookie value for id. maxAge > 0 makes a persistent
// cookie, 0 a browser-session cookie, and < 0 a deleting cookie (Max-Age=0).
func (c *cookieConfig) header(name, id string, maxAge time.Duration, now time.Time) string {
	var b strings.Builder
	b.Grow(len(name) + len(id) + 160)
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(id)
	b.WriteString("; Path=")
	b.WriteString(c.path)
	if c.domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(c.domain)
	}
	switch {
	case maxAge < 0:
		b.WriteString("; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
	case maxAge > 0:
		secs := int64((maxAge + time.Second - 1) / time.Second)
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.FormatInt(secs, 10))
		b.WriteString("; Expires=")
		b.WriteString(now.Add(time.Duration(secs) * time.Second).UTC().Format(http.TimeFormat))
	}
	if c.httpOnly {
		b.WriteString("; HttpOnly")
	}
	if c.secure {
		b.WriteString("; Secure")
	}
	switch c.sameSite {
	case http.SameSiteLaxMode:
		b.WriteString("; SameSite=Lax")
	case http.SameSiteStrictMode:
		b.WriteString("; SameSite=Strict")
	case http.SameSiteNoneMode:
		b.WriteString("; SameSite=None")
	}
	if c.partitioned {
		b.WriteString("; Partitioned")
	}
	return b.String()
}

// issue is what a commit tells the client of its session's ID: nothing, a
// new ID, or the end of the session.
type issue struct {
	set   bool   // the response carries the ID, or its end
	value string // the Set-Cookie value, or the header's value ("" ends the session)
}

// endIssue returns what tells the client that its session ended: a deleting
// cookie, or an empty header.
func (m *Manager) endIssue() issue {
	if m.cfg.header != "" {
		return issue{set: true}
	}
	return issue{set: true, value: m.cfg.cookie.header(m.name, "", -1, m.cfg.now())}
}

// readID returns the session ID the request carries, in the cookie or in
// the header the Manager uses.
func (m *Manager) readID(r *http.Request) (string, cookieResult) {
	if m.cfg.header == "" {
		return readCookie(r.Header, m.name)
	}
	return readHeader(r.Header, m.cfg.header)
}

// readHeader reads a session ID from the request header name; with
// "Authorization", from a Bearer credential.
func readHeader(h http.Header, name string) (string, cookieResult) {
	v, ok := h[name]
	if !ok || len(v) == 0 {
		return "", cookieAbsent
	}
	id := v[0]
	if name == "Authorization" {
		scheme, token, found := strings.Cut(id, " ")
		if !found || !strings.EqualFold(scheme, "Bearer") {
			return "", cookieMalformed
		}
		id = strings.TrimLeft(token, " ")
	}
	if len(v) > 1 || !validID(id) {
		return "", cookieMalformed
	}
	return id, cookieValid
}

// headerValue returns the value of the response header that carries id:
// the ID, or a Bearer credential for "Authorization"; "" ends the session.
func (c *config) headerValue(id string) string {
	if c.header == "Authorization" && id != "" {
		return "Bearer " + id
	}
	return id
}
