package sessions

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// newPanic returns the message New panics with for opts, or "" when New
// accepts them.
func newPanic(t *testing.T, opts ...Option) (msg string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			msg, _ = r.(string)
			if msg == "" {
				t.Fatalf("New panicked with %v, want a message", r)
			}
		}
	}()
	New(newTestMemoryStore(t), opts...)
	return ""
}

// TestNewRefusesCookiesBrowsersDrop: every cookie a browser would refuse,
// or keep in a way that silently loses the session, is refused at New with
// a message that names the value and what is wrong with it.
func TestNewRefusesCookiesBrowsersDrop(t *testing.T) {
	long := strings.Repeat("a", 64)
	cases := []struct {
		name string
		opts []Option
		want string
	}{
		{"domain with a port", []Option{WithCookieDomain("example.com:8080")}, `cookie domain "example.com:8080" has a port`},
		{"domain as a URL", []Option{WithCookieDomain("https://example.com")}, `cookie domain "https://example.com" is a URL`},
		{"domain with a path", []Option{WithCookieDomain("example.com/app")}, `cookie domain "example.com/app" has a path`},
		{"domain with a space", []Option{WithCookieDomain("exa mple.com")}, `cookie domain "exa mple.com" holds ' '`},
		{"domain with ';'", []Option{WithCookieDomain("example.com;x")}, `holds ';'`},
		{"domain with a control character", []Option{WithCookieDomain("example.com\n")}, `holds '\n'`},
		{"domain not ASCII", []Option{WithCookieDomain("bücher.example")}, "xn--"},
		{"domain with two leading dots", []Option{WithCookieDomain("..example.com")}, "empty label"},
		{"domain with a trailing dot", []Option{WithCookieDomain("example.com.")}, "empty label"},
		{"domain with an empty label", []Option{WithCookieDomain("example..com")}, "empty label"},
		{"domain of one label", []Option{WithCookieDomain("localhost")}, `cookie domain "localhost" is a single label`},
		{"domain label too long", []Option{WithCookieDomain(long + ".com")}, "longer than 63"},
		{"domain too long", []Option{WithCookieDomain(strings.Repeat("abcdefghi.", 26) + "com")}, "longer than 253"},
		{"IPv4 domain", []Option{WithCookieDomain("192.0.2.1")}, `cookie domain "192.0.2.1" is an IP address`},
		{"IPv6 domain", []Option{WithCookieDomain("::1")}, "is an IP address"},
		{"bracketed IPv6 domain", []Option{WithCookieDomain("[2001:db8::1]")}, "is an IP address"},
		{"relative path", []Option{WithCookiePath("app")}, `cookie path "app" must start with /`},
		{"path with ';'", []Option{WithCookiePath("/a;b")}, `cookie path "/a;b" holds ';'`},
		{"path with a control character", []Option{WithCookiePath("/a\tb")}, `holds '\t'`},
		{"path with a space", []Option{WithCookiePath("/a b")}, "percent-encode"},
		{"path not ASCII", []Option{WithCookiePath("/café")}, "percent-encode"},
		{"path too long", []Option{WithCookiePath("/" + strings.Repeat("p", 1024))}, "longer than 1024"},
		{"name with a space", []Option{WithCookieName("a b")}, `cookie name "a b" holds ' '`},
		{"name with '='", []Option{WithCookieName("a=b")}, "holds '='"},
		{"name with a control character", []Option{WithCookieName("a\x00")}, `holds '\x00'`},
		{"name not ASCII", []Option{WithCookieName("séance")}, "holds 'é'"},
		{"empty name", []Option{WithCookieName("")}, "cookie name is empty"},
		{"name too long", []Option{WithCookieName(strings.Repeat("n", 4096))}, "4096"},
		{"__Host- with a Domain", []Option{WithCookieName("__Host-s"), WithCookieDomain("example.com")}, "__Host- prefix"},
		{"__Host- with a Path", []Option{WithCookieName("__Host-s"), WithCookiePath("/app")}, "__Host- prefix"},
		{"__Host- without Secure", []Option{WithCookieName("__Host-s"), WithCookieSecure(false)}, "__Host- prefix"},
		{"__host- in lower case with a Domain", []Option{WithCookieName("__host-s"), WithCookieDomain("example.com")}, "__Host- prefix"},
		{"__Secure- without Secure", []Option{WithCookieName("__Secure-s"), WithCookieSecure(false)}, "__Secure- prefix"},
		{"__SECURE- in upper case without Secure", []Option{WithCookieName("__SECURE-s"), WithCookieSecure(false)}, "__Secure- prefix"},
		{"SameSite=None without Secure", []Option{WithCookieSameSite(http.SameSiteNoneMode), WithCookieSecure(false)}, "SameSite=None needs Secure"},
		{"unknown SameSite", []Option{WithCookieSameSite(http.SameSite(9))}, "SameSite mode 9"},
		{"lifetime past 400 days", []Option{WithLifetime(401 * 24 * time.Hour)}, "400 days"},
		{"lifetime that overflows Max-Age", []Option{WithLifetime(math.MaxInt64)}, "400 days"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := newPanic(t, c.opts...)
			if !strings.HasPrefix(msg, "sessions.New: ") || !strings.Contains(msg, c.want) {
				t.Fatalf("New panicked with %q, want a message holding %q", msg, c.want)
			}
		})
	}
}

// TestNewAcceptsCookiesBrowsersKeep: values a browser keeps as they are
// meant pass, and a Domain's leading dot, which browsers ignore, is
// dropped from the header.
func TestNewAcceptsCookiesBrowsersKeep(t *testing.T) {
	cases := []struct {
		name string
		opts []Option
		want string // in the Set-Cookie header
	}{
		{"leading dot dropped", []Option{WithCookieDomain(".example.com")}, "; Domain=example.com;"},
		{"upper case domain", []Option{WithCookieDomain("Example.COM")}, "; Domain=Example.COM;"},
		{"punycode domain", []Option{WithCookieDomain("xn--bcher-kva.example")}, "; Domain=xn--bcher-kva.example;"},
		{"underscore and hyphen", []Option{WithCookieDomain("my_app-1.example.co.uk")}, "; Domain=my_app-1.example.co.uk;"},
		{"nested path", []Option{WithCookiePath("/app/v%C3%A9/")}, "; Path=/app/v%C3%A9/;"},
		{"__Secure- with a Domain", []Option{WithCookieName("__Secure-s"), WithCookieDomain("example.com")}, "__Secure-s="},
		{"400 days", []Option{WithLifetime(400 * 24 * time.Hour)}, "; Max-Age=34560000;"},
		{"a long lifetime without a cookie", []Option{WithHeader("X-Session"), WithLifetime(1000 * 24 * time.Hour)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if msg := newPanic(t, c.opts...); msg != "" {
				t.Fatalf("New refused the options: %s", msg)
			}
			m := New(newTestMemoryStore(t), c.opts...)
			w, _ := run(m, "", func(s *Session) { s.Set("a", "1") })
			if got := w.Header().Get("Set-Cookie"); !strings.Contains(got, c.want) {
				t.Fatalf("Set-Cookie %q, want it to hold %q", got, c.want)
			}
		})
	}
}

// TestCookieNameKeepsAPrefixInAnyCase: a name that browsers read as
// prefixed, in whatever case, gets no second prefix.
func TestCookieNameKeepsAPrefixInAnyCase(t *testing.T) {
	for name, want := range map[string]string{
		"s":          "__Host-s",
		"__Host-s":   "__Host-s",
		"__host-s":   "__host-s",
		"__SECURE-s": "__SECURE-s",
	} {
		if got := New(newTestMemoryStore(t), WithCookieName(name)).CookieName(); got != want {
			t.Errorf("WithCookieName(%q): cookie %q, want %q", name, got, want)
		}
	}
}
