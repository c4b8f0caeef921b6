package demoapp

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

func TestDeviceName(t *testing.T) {
	for _, c := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "Headless Chrome on Linux"},
		{"curl/8.5.0", "curl"},
		{"", "Unknown device"},
		{"Mozilla/5.0 (X11; Linux x86_64)", "A browser on Linux"},
	} {
		if got := deviceName(c.ua); got != c.want {
			t.Errorf("deviceName(%q) = %q, want %q", c.ua, got, c.want)
		}
	}
}

// browser is a client that keeps the session cookie by hand: the cookie is
// Secure, and net/http/cookiejar sends no Secure cookie over plain http.
type browser struct {
	t      *testing.T
	base   string
	ua     string
	cookie *http.Cookie
}

func (b *browser) do(method, path string, form url.Values) *http.Response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", b.ua)
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range res.Cookies() {
		b.cookie = c
		if c.MaxAge < 0 {
			b.cookie = nil
		}
	}
	return res
}

var noRedirect = &http.Client{
	Timeout:       20 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (b *browser) body(method, path string, form url.Values) string {
	res := b.do(method, path, form)
	defer res.Body.Close()
	var sb strings.Builder
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		sb.WriteString(sc.Text() + "\n")
	}
	return sb.String()
}

func newDemo(t *testing.T, cfg Config) (*httptest.Server, *sessions.MemoryStore) {
	store := sessions.NewMemoryStore()
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(Routes(sessions.New(store), cfg))
	t.Cleanup(srv.Close)
	return srv, store
}

// TestSlowWriteRefused runs the race panel's order over real HTTP: the slow
// request reads, the logout lands, then the slow write is refused.
func TestSlowWriteRefused(t *testing.T) {
	srv, _ := newDemo(t, Config{})
	b := &browser{t: t, base: srv.URL, ua: "curl/8"}
	b.do("POST", "/login", url.Values{"user": {"alice"}}).Body.Close()
	tok := "00112233445566778899aabbccddeeff"
	res := b.do("POST", "/slow?hold="+tok, nil)
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	var read, write SlowEvent
	if err := dec.Decode(&read); err != nil || read.User != "alice" {
		t.Fatalf("slow read %+v, %v; want user alice", read, err)
	}
	b.do("POST", "/logout", nil).Body.Close()
	b.do("POST", "/release", url.Values{"token": {tok}}).Body.Close()
	if err := dec.Decode(&write); err != nil || write.Outcome != "refused" {
		t.Fatalf("slow write %+v, %v; want refused", write, err)
	}
	if got := b.body("GET", "/api/state", nil); !strings.Contains(got, `"user":""`) {
		t.Fatalf("after the race: %s; want logged out", got)
	}
}

// TestDevices lists two sessions of one user, revokes the other one, then
// logs out the others from a third.
func TestDevices(t *testing.T) {
	srv, _ := newDemo(t, Config{})
	laptop := &browser{t: t, base: srv.URL, ua: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
	phone := &browser{t: t, base: srv.URL, ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Safari/604.1"}
	for _, b := range []*browser{laptop, phone} {
		b.do("POST", "/login", url.Values{"user": {"bob"}}).Body.Close()
	}
	page := laptop.body("GET", "/devices", nil)
	for _, want := range []string{"Firefox on Linux", "Safari on iPhone", "this device", "Log out other devices"} {
		if !strings.Contains(page, want) {
			t.Fatalf("devices page lacks %q:\n%s", want, page)
		}
	}
	phoneHandle := handleOf(t, phone)
	laptop.do("POST", "/devices/revoke", url.Values{"handle": {phoneHandle}}).Body.Close()
	if got := phone.body("GET", "/api/state", nil); !strings.Contains(got, `"user":""`) {
		t.Fatalf("revoked phone: %s; want logged out", got)
	}
	tablet := &browser{t: t, base: srv.URL, ua: "Mozilla/5.0 (iPad) Safari/604.1"}
	tablet.do("POST", "/login", url.Values{"user": {"bob"}}).Body.Close()
	tablet.do("POST", "/devices/others", nil).Body.Close()
	if got := laptop.body("GET", "/api/state", nil); !strings.Contains(got, `"user":""`) {
		t.Fatalf("laptop after log out other devices: %s; want logged out", got)
	}
	if got := tablet.body("GET", "/devices", nil); strings.Contains(got, "Firefox") || !strings.Contains(got, "Safari on iPad") {
		t.Fatalf("tablet's devices page after log out other devices:\n%s", got)
	}
}

// handleOf is the full handle of b's session, as the devices page posts
// it: the hex SHA-256 of the session ID.
func handleOf(t *testing.T, b *browser) string {
	t.Helper()
	if b.cookie == nil {
		t.Fatal("no session cookie")
	}
	sum := sha256.Sum256([]byte(b.cookie.Value))
	return hex.EncodeToString(sum[:])
}
