package sessions

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// idCarrier puts a session ID somewhere in a request.
type idCarrier struct {
	name string
	put  func(r *http.Request, id string)
}

func inHeader(name, scheme string) idCarrier {
	return idCarrier{"header " + name, func(r *http.Request, id string) { r.Header.Add(name, scheme+id) }}
}

func inQuery(names ...string) idCarrier {
	return idCarrier{"query " + strings.Join(names, ","), func(r *http.Request, id string) {
		q := r.URL.Query()
		for _, n := range names {
			q.Set(n, id)
		}
		r.URL.RawQuery = q.Encode()
	}}
}

// inForm makes the request a POST of a urlencoded form with the ID in each
// field.
func inForm(names ...string) idCarrier {
	return idCarrier{"form " + strings.Join(names, ","), func(r *http.Request, id string) {
		f := url.Values{}
		for _, n := range names {
			f.Set(n, id)
		}
		body := f.Encode()
		r.Method = http.MethodPost
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}}
}

func inCookie(names ...string) idCarrier {
	return idCarrier{"cookie " + strings.Join(names, ","), func(r *http.Request, id string) {
		for _, n := range names {
			r.AddCookie(&http.Cookie{Name: n, Value: id})
		}
	}}
}

// allOf carries the ID in every place of cs at once.
func allOf(cs ...idCarrier) idCarrier {
	return idCarrier{"all of them", func(r *http.Request, id string) {
		for _, c := range cs {
			c.put(r, id)
		}
	}}
}

// transportCase is one way the Manager carries the ID (header is
// WithHeader's name, "" for the cookie), the one place it reads it from,
// and places it must never read it from.
type transportCase struct {
	header  string
	read    idCarrier
	ignored []idCarrier
}

func transportCases() []transportCase {
	query := inQuery("session", "__Host-session", "X-Session", "Authorization", "token", "access_token", "id", "sid")
	query.name = "query parameters"
	form := inForm("session", "__Host-session", "X-Session", "Authorization", "token", "access_token")
	form.name = "form fields"
	cookies := inCookie("session", "__Host-session", "X-Session")
	cookies.name = "cookies"
	return []transportCase{
		{"X-Session", inHeader("X-Session", ""), []idCarrier{
			inQuery("session"), inQuery("X-Session"), query, form, cookies,
			inHeader("Authorization", "Bearer "), inHeader("Session", ""), inHeader("X-Session-Id", ""),
			allOf(query, form, cookies, inHeader("Authorization", "Bearer ")),
		}},
		{"Authorization", inHeader("Authorization", "Bearer "), []idCarrier{
			inQuery("session"), inQuery("Authorization"), query, form, cookies,
			inHeader("X-Session", ""), inHeader("Session", ""),
			allOf(query, form, cookies, inHeader("X-Session", "")),
		}},
		{"", inCookie("__Host-session"), []idCarrier{
			// Without its __Host- prefix the cookie could have been set by
			// a sibling subdomain, which is what the prefix rules out.
			inCookie("session"), inQuery("session"), inQuery("__Host-session"), query, form,
			inHeader("X-Session", ""), inHeader("Authorization", "Bearer "), inHeader("Session", ""),
			allOf(query, form, inCookie("session"), inHeader("X-Session", ""), inHeader("Authorization", "Bearer ")),
		}},
	}
}

// TestIDIsReadFromItsTransportOnly: the ID is read from the configured
// header alone with WithHeader, and from the cookie alone without it (G7,
// G13). An ID taken from a query parameter leaks into access logs, Referer
// headers and history, and one taken from a form field, a cookie under the
// header transport or another header lets a cross-site form or a planted
// cookie choose the session a victim uses (fixation). Each probe is a
// real HTTP round trip that carries a live session's ID in one place.
func TestIDIsReadFromItsTransportOnly(t *testing.T) {
	for _, tc := range transportCases() {
		name := tc.header
		if name == "" {
			name = "cookie"
		}
		t.Run(name, func(t *testing.T) {
			m := New(newTestMemoryStore(t), WithHeader(tc.header))
			if tc.header == "" && m.CookieName() != "__Host-session" {
				t.Fatalf("cookie name %q: the cases below assume __Host-session", m.CookieName())
			}
			srv := serve(t, m, probeHandler())
			t.Run("read from "+tc.read.name, func(t *testing.T) {
				if got := probe(t, m, srv, tc.read); got != "here" {
					t.Fatalf("the ID carried in %s, the Manager's own transport, was not read: got %q, want the session's value", tc.read.name, got)
				}
			})
			for _, c := range tc.ignored {
				t.Run("ignored in "+c.name, func(t *testing.T) {
					if got := probe(t, m, srv, c); got != "" {
						t.Fatalf("the ID carried in %s, and not in %s, was read: the request got the session's value %q", c.name, tc.read.name, got)
					}
				})
			}
		})
	}
}

// probeHandler serves /new, which starts a session holding mark=here, and
// /probe, which writes the mark of the request's session.
func probeHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { Get(r).Set("mark", "here") })
	mux.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, Get(r).GetString("mark")) })
	return mux
}

// probe starts a session, then sends a request that carries its ID as c
// puts it, and returns the mark that request's session holds.
func probe(t *testing.T, m *Manager, srv *httptest.Server, c idCarrier) string {
	t.Helper()
	id := newSessionID(t, m, srv)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/probe", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.put(req, id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("probe: status %d, %v", resp.StatusCode, err)
	}
	return string(b)
}

// newSessionID starts a session on srv and returns its ID, as the response
// gave it: in the Manager's header or its cookie.
func newSessionID(t *testing.T, m *Manager, srv *httptest.Server) string {
	t.Helper()
	resp, err := http.Get(srv.URL + "/new")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := strings.TrimPrefix(resp.Header.Get(m.cfg.header), "Bearer ")
	if m.cfg.header == "" {
		for _, c := range resp.Cookies() {
			if c.Name == m.CookieName() {
				id = c.Value
			}
		}
	}
	if !validID(id) {
		t.Fatalf("/new gave no session ID (got %q)", id)
	}
	return id
}
