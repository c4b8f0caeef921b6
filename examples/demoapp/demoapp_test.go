package demoapp

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
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
	header http.Header // sent with every request, besides the cookie
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
	for k, v := range b.header {
		req.Header[k] = v
	}
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
	if write := race(t, b); write.Outcome != "refused" {
		t.Fatalf("slow write %+v; want refused", write)
	}
	if got := b.body("GET", "/api/state", nil); !strings.Contains(got, `"user":""`) {
		t.Fatalf("after the race: %s; want logged out", got)
	}
}

// race runs the race panel's requests as b: the slow request reads, the
// logout lands, the slow request is released. It returns how the slow
// write ended.
func race(t *testing.T, b *browser) SlowEvent {
	t.Helper()
	tok := "00112233445566778899aabbccddeeff"
	res := b.do("POST", "/slow?hold="+tok, nil)
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("the slow request answered a script with %q, want JSON lines", ct)
	}
	dec := json.NewDecoder(res.Body)
	var read, write SlowEvent
	if err := dec.Decode(&read); err != nil || read.User == "" {
		t.Fatalf("slow read %+v, %v; want a user", read, err)
	}
	b.do("POST", "/logout", nil).Body.Close()
	b.do("POST", "/release", url.Values{"token": {tok}}).Body.Close()
	if err := dec.Decode(&write); err != nil {
		t.Fatalf("slow write: %v", err)
	}
	return write
}

// After the race the panel reloads the home page and swaps in its parts
// marked data-session: the menu, the header's session, the session card
// and the counter. That page must show the user logged out, the counter
// back at 0 (the counter lived in the ended session) and no "Your
// devices"; before the race it showed all three.
func TestRaceThenHome(t *testing.T) {
	srv, _ := newDemo(t, Config{})
	b := &browser{t: t, base: srv.URL, ua: "curl/8"}
	b.do("POST", "/login", url.Values{"user": {"alice"}}).Body.Close()
	b.do("POST", "/count", nil).Body.Close()
	b.do("POST", "/count", nil).Body.Close()
	before := b.body("GET", "/", nil)
	for _, want := range []string{`data-user="alice"`, `<span id="count">2</span>`, `href="/devices"`} {
		if !strings.Contains(before, want) {
			t.Fatalf("home page before the race lacks %q", want)
		}
	}
	race(t, b)
	after := b.body("GET", "/", nil)
	for _, want := range []string{
		`data-user=""`, `<span id="count">0</span>`,
		`id="nav" data-session`, `id="who" data-session`, `id="session-card" data-session`, `id="counter-card" data-session`,
	} {
		if !strings.Contains(after, want) {
			t.Errorf("home page after the race lacks %q", want)
		}
	}
	if strings.Contains(after, `href="/devices"`) {
		t.Error("home page after the race still offers Your devices")
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

// The devices page lists the device it is shown on first, whatever the
// order of activity: here the phone logged in last, so it is the most
// recently active, and the laptop still sees itself on top.
func TestDevicesThisDeviceFirst(t *testing.T) {
	srv, _ := newDemo(t, Config{})
	laptop := &browser{t: t, base: srv.URL, ua: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
	phone := &browser{t: t, base: srv.URL, ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Safari/604.1"}
	for _, b := range []*browser{laptop, phone} {
		b.do("POST", "/login", url.Values{"user": {"bob"}}).Body.Close()
	}
	for _, c := range []struct {
		b     *browser
		first string
	}{{laptop, "Firefox on Linux"}, {phone, "Safari on iPhone"}} {
		page := c.b.body("GET", "/devices", nil)
		_, rows, _ := strings.Cut(page, "<tbody>")
		first, _, _ := strings.Cut(rows, "</tr>")
		if !strings.Contains(first, `class="this"`) || !strings.Contains(first, c.first) {
			t.Errorf("%s's devices page starts with\n%s\nwant this device first", c.first, first)
		}
	}
}

// A browser tab that opens /slow gets a page, sent in two parts: what the
// request read, at once, and how its write ended, after the wait. A logout
// while it waits makes the page report the refusal.
func TestSlowPage(t *testing.T) {
	srv, _ := newDemo(t, Config{})
	b := &browser{t: t, base: srv.URL, ua: "curl/8", header: http.Header{"Accept": {"text/html,*/*;q=0.8"}}}
	if page := b.body("GET", "/slow", nil); !strings.Contains(page, "not logged in") || !strings.Contains(page, `data-outcome="skipped"`) {
		t.Fatalf("/slow logged out:\n%s\nwant a page saying there is nothing to write", page)
	}
	b.do("POST", "/login", url.Values{"user": {"alice"}}).Body.Close()
	tok := "ffeeddccbbaa99887766554433221100"
	res := b.do("GET", "/slow?hold="+tok, nil)
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("/slow answered a browser with %q, want a page", ct)
	}
	read := readUntil(t, bufio.NewReader(res.Body), "</li>")
	if !strings.Contains(read, "logged in as <strong>alice</strong>") {
		t.Fatalf("the first part of the page:\n%s\nwant what the request read", read)
	}
	b.do("POST", "/logout", nil).Body.Close()
	b.do("POST", "/release", url.Values{"token": {tok}}).Body.Close()
	rest, err := io.ReadAll(res.Body)
	if err != nil || !strings.Contains(string(rest), `data-outcome="refused"`) || !strings.Contains(string(rest), "The write was refused.") {
		t.Fatalf("the rest of the page (%v):\n%s\nwant the refusal", err, rest)
	}
}

// readUntil reads r up to and including the first line that contains end.
func readUntil(t *testing.T, r *bufio.Reader, end string) string {
	t.Helper()
	var sb strings.Builder
	for !strings.Contains(sb.String(), end) {
		line, err := r.ReadString('\n')
		sb.WriteString(line)
		if err != nil {
			t.Fatalf("read %q, then %v; want %q", sb.String(), err, end)
		}
	}
	return sb.String()
}

// A POST that a browser sends from another site (CSRF) is refused with 403
// before it reaches the session: no cookie, no log in. The same POST from
// the demo's own pages goes through.
func TestCrossOriginRefused(t *testing.T) {
	if !crossOriginChecked {
		t.Skip("http.CrossOriginProtection needs Go 1.25")
	}
	srv, _ := newDemo(t, Config{})
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://attacker.example"}}, // a browser without Sec-Fetch-Site
	} {
		b := &browser{t: t, base: srv.URL, ua: "curl/8", header: h}
		res := b.do("POST", "/login", url.Values{"user": {"mallory"}})
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || b.cookie != nil {
			t.Errorf("cross-origin log in with %v: %s, cookie %v; want 403 and no cookie", h, res.Status, b.cookie != nil)
		}
	}
	b := &browser{t: t, base: srv.URL, ua: "curl/8", header: http.Header{"Sec-Fetch-Site": {"same-origin"}}}
	res := b.do("POST", "/login", url.Values{"user": {"alice"}})
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || b.cookie == nil {
		t.Errorf("same-origin log in: %s, cookie %v; want 303 and a cookie", res.Status, b.cookie != nil)
	}
}
