package sessions

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
// prefix of its own, in any case: browsers match prefixes so.
func (c *cookieConfig) effectiveName() string {
	if c.secure && c.path == "/" && c.domain == "" &&
		!hasPrefixFold(c.name, "__Host-") && !hasPrefixFold(c.name, "__Secure-") {
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
		// Rounded up without adding first, which would wrap a huge maxAge
		// into a negative, deleting, Max-Age.
		secs := int64(maxAge / time.Second)
		if maxAge%time.Second != 0 {
			secs++
		}
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

// Limits that browsers put on a cookie. A cookie past them is dropped, or
// its attribute ignored, with no word to the server.
const (
	maxCookieAge      = 400 * 24 * time.Hour // Max-Age is capped at 400 days
	maxCookieSize     = 4096                 // bytes of name and value together
	maxCookieAttr     = 1024                 // bytes of an attribute's value
	maxDomainLen      = 253                  // bytes of a host name
	maxDomainLabelLen = 63                   // bytes of one label of it
)

// validate returns an error describing the first attribute that a browser
// would refuse, or would accept in a way that loses the session.
func (c *cookieConfig) validate() error {
	if err := c.validateName(); err != nil {
		return err
	}
	if err := c.validateDomain(); err != nil {
		return err
	}
	if err := c.validatePath(); err != nil {
		return err
	}
	switch {
	case hasPrefixFold(c.name, "__Host-") && (!c.secure || c.domain != "" || c.path != "/"):
		return fmt.Errorf("cookie name %q has the __Host- prefix (in any case), which needs Secure, Path=/ and no Domain", c.name)
	case hasPrefixFold(c.name, "__Secure-") && !c.secure:
		return fmt.Errorf("cookie name %q has the __Secure- prefix (in any case), which needs Secure", c.name)
	case c.sameSite < 0 || c.sameSite > http.SameSiteNoneMode:
		return fmt.Errorf("SameSite mode %d is none of http.SameSiteDefaultMode, LaxMode, StrictMode and NoneMode", c.sameSite)
	case c.sameSite == http.SameSiteNoneMode && !c.secure:
		return fmt.Errorf("SameSite=None needs Secure")
	case c.partitioned && !c.secure:
		return fmt.Errorf("a Partitioned cookie needs Secure")
	}
	return nil
}

// validateName checks that the name is a token, which is all RFC 6265
// allows in a cookie name, and leaves room for the ID.
func (c *cookieConfig) validateName() error {
	if c.name == "" {
		return fmt.Errorf("cookie name is empty")
	}
	if i := strings.IndexFunc(c.name, notTokenChar); i >= 0 {
		r, _ := utf8.DecodeRuneInString(c.name[i:])
		return fmt.Errorf("cookie name %q holds %q, which a cookie name may not hold (it is a token: printable ASCII but for ()<>@,;:\\\"/[]?={})", c.name, r)
	}
	if n := len(c.effectiveName()) + 1 + idLen; n > maxCookieSize {
		return fmt.Errorf("cookie name is %d bytes: with the session ID the cookie is %d, past the %d bytes browsers keep", len(c.name), n, maxCookieSize)
	}
	return nil
}

// validatePath checks that the path is one that request paths, which
// browsers percent-encode, can match.
func (c *cookieConfig) validatePath() error {
	p := c.path
	if p == "" || p[0] != '/' {
		return fmt.Errorf("cookie path %q must start with /", p)
	}
	if len(p) > maxCookieAttr {
		return fmt.Errorf("cookie path is longer than %d bytes, which browsers ignore", maxCookieAttr)
	}
	for _, r := range p {
		switch {
		case r == ';':
			return fmt.Errorf("cookie path %q holds ';', which would end the attribute", p)
		case r < ' ' || r == 0x7f:
			return fmt.Errorf("cookie path %q holds %q, a control character browsers refuse", p, r)
		case r == ' ' || r > 0x7f:
			return fmt.Errorf("cookie path %q holds %q: browsers percent-encode request paths, so it matches none; percent-encode it", p, r)
		}
	}
	return nil
}

// validateDomain checks that the domain, without the leading dot browsers
// ignore, is a host name a browser shares a cookie with: not a URL, an
// address or a single label.
func (c *cookieConfig) validateDomain() error {
	if c.domain == "" {
		return nil
	}
	d := strings.TrimPrefix(c.domain, ".")
	if err := domainShape(d); err != nil {
		return fmt.Errorf("cookie domain %q %w", c.domain, err)
	}
	if err := domainChars(d); err != nil {
		return fmt.Errorf("cookie domain %q %w", c.domain, err)
	}
	return domainLabels(c.domain, d)
}

// domainShape returns what makes d, a value given for a domain, something
// else: a URL, a host and path, an IP address, a host and port.
func domainShape(d string) error {
	host := hostOf(d)
	switch {
	case strings.Contains(d, "://"):
		return fmt.Errorf("is a URL; give the host name alone: %q", host)
	case strings.Contains(d, "/"):
		return fmt.Errorf("has a path; give the host name alone (%q), and the path with WithCookiePath", host)
	case net.ParseIP(strings.Trim(host, "[]")) != nil:
		return fmt.Errorf("is an IP address, which browsers share with no other host; leave WithCookieDomain out for a cookie of this host only")
	case strings.Contains(d, ":"):
		return fmt.Errorf("has a port, which browsers refuse in a Domain; give the host name alone: %q", host)
	}
	return nil
}

// hostOf returns the host name in d, a URL, a host and path or a host and
// port.
func hostOf(d string) string {
	if _, rest, ok := strings.Cut(d, "://"); ok {
		d = rest
	}
	d, _, _ = strings.Cut(d, "/")
	if h, _, err := net.SplitHostPort(d); err == nil {
		d = h
	}
	return d
}

// domainChars returns the first character of d that a host name may not
// hold. Underscores pass: browsers accept them in host names.
func domainChars(d string) error {
	for _, r := range d {
		switch {
		case r > 0x7f:
			return fmt.Errorf("is not ASCII; give the ASCII form of an internationalized name (\"xn--...\")")
		case r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		default:
			return fmt.Errorf("holds %q, which a host name may not hold", r)
		}
	}
	return nil
}

// domainLabels checks the length and the labels of d, the domain given
// without its leading dot.
func domainLabels(given, d string) error {
	if len(d) > maxDomainLen {
		return fmt.Errorf("cookie domain %q is longer than %d bytes", given, maxDomainLen)
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return fmt.Errorf("cookie domain %q has an empty label (two dots in a row, or one at an end), which browsers refuse", given)
		case len(l) > maxDomainLabelLen:
			return fmt.Errorf("cookie domain %q has a label longer than %d bytes", given, maxDomainLabelLen)
		}
	}
	if len(labels) == 1 {
		return fmt.Errorf("cookie domain %q is a single label: browsers refuse it as a Domain, or keep the cookie for that host alone; leave WithCookieDomain out for a cookie of this host only", given)
	}
	return nil
}

// hasPrefixFold reports whether s starts with prefix in any case, as
// browsers match the __Host- and __Secure- prefixes.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
