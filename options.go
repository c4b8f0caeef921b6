package sessions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Option configures a Manager. Options are applied in order by New; every
// default is set in one place, defaultConfig, and New panics on an invalid
// value, with a message that names it: among them every cookie attribute a
// browser would drop the cookie for, or ignore, since the browser says
// nothing when it does.
type Option func(*config)

// ErrorHandlerFunc responds to a request whose session could not be read or
// committed. err wraps the cause: the store's error, a value the codec could
// not encode, or a failure to generate an ID. When the response headers were
// already sent, err also wraps ErrHeadersWritten and nothing more can be
// written to w; otherwise the handler's headers have been cleared and the
// error handler writes the whole response.
type ErrorHandlerFunc func(w http.ResponseWriter, r *http.Request, err error)

type config struct {
	cookie        cookieConfig
	header        string // the header that carries the ID, or "" for the cookie
	idleTimeout   time.Duration
	lifetime      time.Duration
	touchInterval time.Duration // unsetTouch until set: then derived from idleTimeout
	touchAuto     bool          // no WithTouchInterval: derived per session from its idle timeout
	commitTimeout time.Duration
	maxSessions   int
	events        func(context.Context, Event)
	codec         Codec
	errorHandler  ErrorHandlerFunc
	logger        *slog.Logger
	now           func() time.Time
}

// newConfig returns the configuration that opts make of the defaults, or
// the first invalid setting.
func newConfig(opts []Option) (config, error) {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	if c.touchInterval < 0 && c.touchInterval != unsetTouch {
		return c, fmt.Errorf("touch interval %v must not be negative", c.touchInterval)
	}
	if c.touchInterval == unsetTouch {
		c.touchAuto = true
		c.touchInterval = min(time.Minute, c.idleTimeout/2)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if err := c.validate(); err != nil {
		return c, err
	}
	// Browsers ignore a Domain's leading dot; the header goes without it,
	// as they read it.
	c.cookie.domain = strings.TrimPrefix(c.cookie.domain, ".")
	return c, nil
}

// touchFor returns the touch interval of a session whose idle timeout is
// idle: WithTouchInterval's, else a minute or half the timeout.
func (c *config) touchFor(idle time.Duration) time.Duration {
	if c.touchAuto {
		return min(time.Minute, idle/2)
	}
	if c.touchInterval < idle {
		return c.touchInterval
	}
	return idle / 2
}

// unsetTouch marks a touch interval that no option set.
const unsetTouch = time.Duration(-1 << 63)

// defaultConfig returns the defaults of every option.
func defaultConfig() config {
	return config{
		cookie: cookieConfig{
			name:     "session",
			path:     "/",
			secure:   true,
			httpOnly: true,
			sameSite: http.SameSiteLaxMode,
			persist:  true,
		},
		idleTimeout:   0,
		lifetime:      24 * time.Hour,
		touchInterval: unsetTouch, // a minute, or half the idle timeout when that is shorter
		commitTimeout: 5 * time.Second,
		maxSessions:   0,
		codec:         JSONCodec{},
		errorHandler:  defaultErrorHandler,
		logger:        nil, // slog.Default(), as New finds it
		now:           time.Now,
	}
}

// WithCookieName sets the name of the session cookie. Default: "session".
// When the cookie is Secure with Path "/" and no Domain (the default), the
// name gets the "__Host-" prefix, so the default cookie is
// "__Host-session"; a name that already starts with "__Host-" or
// "__Secure-", in any case, is used as it is. The name must be a token
// (printable ASCII but for spaces and ()<>@,;:\"/[]?={}); browsers match
// the prefixes in any case, so "__host-" needs what "__Host-" needs
// (Secure, Path "/", no Domain) and "__secure-" needs Secure.
func WithCookieName(name string) Option {
	return func(c *config) { c.cookie.name = name }
}

// WithCookieDomain sets the cookie's Domain attribute, which shares the cookie
// with the subdomains of domain. Default: none, so the cookie is sent to the
// host that set it only. A Domain rules out the "__Host-" prefix.
//
// domain is a host name of two labels or more, "example.com", in ASCII
// (the "xn--" form of an internationalized name). A leading dot, which
// browsers ignore, is accepted and left out of the header. New refuses
// what a browser would drop the cookie for: a port ("example.com:8080"), a
// URL or a path, an IP address, a single label ("localhost"), an empty
// label, and characters other than letters, digits, '-', '_' and '.'.
func WithCookieDomain(domain string) Option {
	return func(c *config) { c.cookie.domain = domain }
}

// WithCookiePath sets the cookie's Path attribute. Default: "/". It must start
// with "/" and, since browsers compare it with percent-encoded request
// paths, be printable ASCII without spaces or ';' (percent-encode the
// rest), of at most 1024 bytes.
func WithCookiePath(path string) Option {
	return func(c *config) { c.cookie.path = path }
}

// WithCookieSecure sets the cookie's Secure attribute. Default: true. Browsers
// treat http://localhost as a secure origin, so local development works
// with the default; turn it off only for plain-HTTP deployments.
func WithCookieSecure(secure bool) Option {
	return func(c *config) { c.cookie.secure = secure }
}

// WithCookieHTTPOnly sets the cookie's HttpOnly attribute. Default: true.
func WithCookieHTTPOnly(httpOnly bool) Option {
	return func(c *config) { c.cookie.httpOnly = httpOnly }
}

// WithCookieSameSite sets the cookie's SameSite attribute. Default:
// http.SameSiteLaxMode. http.SameSiteDefaultMode leaves the attribute out;
// http.SameSiteNoneMode needs Secure. New refuses any other value.
func WithCookieSameSite(mode http.SameSite) Option {
	return func(c *config) { c.cookie.sameSite = mode }
}

// WithCookiePartitioned sets the cookie's Partitioned attribute (CHIPS), for
// sessions inside third-party iframes. Default: false. It needs Secure.
func WithCookiePartitioned(partitioned bool) Option {
	return func(c *config) { c.cookie.partitioned = partitioned }
}

// WithCookiePersistent chooses between a persistent cookie, which the
// browser keeps until the session's absolute lifetime ends (Max-Age), and a
// browser-session cookie, which the browser drops when it closes. Default:
// true (persistent). Session.RememberMe overrides it for one session.
func WithCookiePersistent(persistent bool) Option {
	return func(c *config) { c.cookie.persist = persistent }
}

// WithHeader makes the session ID travel in the request header name instead
// of a cookie, for API and mobile clients: a request carries the ID in it,
// and a response that gives the session a new ID carries the new one in the
// same header, one that ends the session carries the header empty. No
// cookie is read or set, and the cookie options do not apply. With
// "Authorization", the ID travels as a Bearer credential both ways
// ("Authorization: Bearer <id>").
//
// Every guarantee holds as with the cookie. What changes is the client's
// part: a header token is not sent by the browser on its own, so cross-site
// request forgery is no concern, but the client must store the token safely
// (the platform's keychain, never localStorage in a page that runs other
// scripts), replace it with every response that carries the header, and
// drop it when the header comes back empty. Default: "" (the cookie). The
// name must be a valid header name.
func WithHeader(name string) Option {
	return func(c *config) { c.header = http.CanonicalHeaderKey(name) }
}

// WithIdleTimeout ends a session that has seen no request for d. The
// timeout slides: a request that reads or writes the session extends it, in
// steps of the touch interval. Default: 0, no idle timeout.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) { c.idleTimeout = d }
}

// WithLifetime sets the absolute lifetime of a session, counted from its
// creation (or from its last Renew), however active it is. Default: 24
// hours. It must not be shorter than the idle timeout and, with a cookie,
// not longer than 400 days: browsers keep a cookie no longer, so its
// session would end at the browser, unannounced, while the server still
// keeps it.
func WithLifetime(d time.Duration) Option {
	return func(c *config) { c.lifetime = d }
}

// WithTouchInterval sets how often a request that only reads a session
// writes to the store to extend its idle timeout. A read-only request within
// the interval since the last write costs no write; a session may therefore
// end up to d before the idle timeout has passed since its last request.
// Default: one minute, or half the idle timeout when that is shorter. It
// matters only with an idle timeout and must be shorter than it.
func WithTouchInterval(d time.Duration) Option {
	return func(c *config) { c.touchInterval = d }
}

// WithMaxSessions limits how many sessions one user may have live at once:
// a Login past n ends the user's least recently active other sessions, so
// that n remain. Logins that race at the limit can end each other; never
// more than n stay live once they have all committed. Enforcing it costs a
// Login one more read of the user's index, and one read per session of the
// user when the index holds more than n. Default: 0, no limit.
func WithMaxSessions(n int) Option {
	return func(c *config) { c.maxSessions = n }
}

// WithCommitTimeout bounds each store call the Manager makes: the read of a
// session and every write at commit. Writes run on a context that the
// client hanging up does not cancel. Default: 5 seconds.
func WithCommitTimeout(d time.Duration) Option {
	return func(c *config) { c.commitTimeout = d }
}

// WithCodec sets how values are encoded. Default: JSONCodec.
func WithCodec(codec Codec) Option {
	return func(c *config) { c.codec = codec }
}

// WithErrorHandler sets the handler for store failures. Default: a plain
// "500 Internal Server Error" response, or nothing when the headers were
// already sent. The Manager writes a log record of the failure either way.
// Before the handler runs, every response header is cleared, also those set
// by middleware outside the Manager (put such middleware inside it, or set
// those headers in the handler too), so that no header of the failed
// response leaks into the error's.
func WithErrorHandler(h ErrorHandlerFunc) Option {
	return func(c *config) { c.errorHandler = h }
}

// WithLogger sets the logger for failures, refused writes and bad input.
// Default: slog.Default(), as it is when New is called. Log records name a
// session by the first 12 hex digits of its handle, never by its ID, and
// carry no stored value.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithClock sets the clock the Manager reads for expiry and metadata, for
// tests. Default: time.Now. It must follow real time closely: stores expire
// records by their own clocks, and the built-in stores compare the deadline
// the Manager writes into each record with theirs.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

func defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrHeadersWritten) {
		return
	}
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// validate returns an error describing the first invalid setting.
func (c *config) validate() error {
	if err := c.cookie.validate(); err != nil {
		return err
	}
	switch {
	case c.lifetime <= 0:
		return fmt.Errorf("lifetime %v must be positive", c.lifetime)
	case c.header == "" && c.lifetime > maxCookieAge:
		return fmt.Errorf("lifetime %v is longer than the 400 days (%v) a browser keeps a cookie: sessions would end at the browser first, unannounced", c.lifetime, maxCookieAge)
	case c.idleTimeout < 0:
		return fmt.Errorf("idle timeout %v must not be negative", c.idleTimeout)
	case c.idleTimeout > c.lifetime:
		return fmt.Errorf("absolute lifetime %v is shorter than the idle timeout %v", c.lifetime, c.idleTimeout)
	case strings.ContainsFunc(c.header, notTokenChar):
		return fmt.Errorf("header name %q is not a valid header name", c.header)
	case c.maxSessions < 0:
		return fmt.Errorf("session limit %d must not be negative", c.maxSessions)
	case c.idleTimeout > 0 && c.touchInterval >= c.idleTimeout:
		return fmt.Errorf("touch interval %v must be shorter than the idle timeout %v", c.touchInterval, c.idleTimeout)
	case c.commitTimeout <= 0:
		return fmt.Errorf("commit timeout %v must be positive", c.commitTimeout)
	case c.codec == nil:
		return fmt.Errorf("codec is nil")
	case c.errorHandler == nil:
		return fmt.Errorf("error handler is nil")
	case c.now == nil:
		return fmt.Errorf("clock is nil")
	}
	return nil
}

// notTokenChar reports whether r may not appear in a cookie or header name
// (a token: printable ASCII but for separators).
func notTokenChar(r rune) bool {
	if r <= ' ' || r >= 0x7f {
		return true
	}
	return strings.ContainsRune(`()<>@,;:\"/[]?={}`, r)
}
