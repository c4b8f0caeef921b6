package filestore

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// millis is t as the Manager writes "__deadline".
func millis(t time.Time) []byte {
	return []byte(strconv.FormatInt(t.UnixMilli(), 10))
}

// fileExpiry returns the expiry written in the record file of id.
func fileExpiry(t *testing.T, s *Store, id string) time.Time {
	t.Helper()
	f, ok, err := readFile(s.path(id+recordSuffix), magicRecord)
	if err != nil || !ok {
		t.Fatalf("the record file of %s: present %v, error %v", id, ok, err)
	}
	return time.Unix(0, f.expires)
}

// TestWriteCapsExpiryAtDeadline: a Write, whatever its ttl, never sets an
// expiry past the record's "__deadline", and a delta that drops the
// deadline drops the cap.
func TestWriteCapsExpiryAtDeadline(t *testing.T) {
	s := newTestStore(t)
	id := testID("capped")
	end := time.UnixMilli(time.Now().Add(time.Minute).UnixMilli())
	steps := []struct {
		what string
		ch   sessions.Change
	}{
		{"a Replace", sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"__deadline": millis(end), "a": []byte("1")}}},
		{"a delta", sessions.Change{Set: sessions.Record{"b": []byte("2")}}},
		{"a touch", sessions.Change{}},
	}
	for _, step := range steps {
		mustNil(t, s.Write(bg, id, step.ch, time.Hour))
		if got := fileExpiry(t, s, id); got.After(end) {
			t.Errorf("%s with a ttl of an hour set the expiry to %v, past the deadline %v", step.what, got, end)
		}
	}
	mustNil(t, s.Write(bg, id, sessions.Change{Delete: []string{"__deadline"}}, time.Hour))
	if got := fileExpiry(t, s, id); !got.After(end) {
		t.Errorf("a delta that drops the deadline set the expiry to %v, want its ttl of an hour", got)
	}
}

// TestRecordPastDeadlineIsMissing: a record file whose expiry lies ahead but
// whose "__deadline" has passed, as one written without the cap is, must
// be missing to every method: no read serves it, and no write extends it.
func TestRecordPastDeadlineIsMissing(t *testing.T) {
	s := newTestStore(t)
	id := testID("past deadline")
	rec := sessions.Record{"__deadline": millis(time.Now().Add(-time.Second)), "a": []byte("1")}
	mustNil(t, writeFile(s.path(id+recordSuffix), encode(magicRecord, time.Now().Add(time.Hour).UnixNano(), rec)))
	if _, err := s.Read(bg, id); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read gave %v, want ErrNotFound", err)
	}
	if ok, err := s.Exists(bg, id); ok || err != nil {
		t.Errorf("Exists gave %v, %v, want false, nil", ok, err)
	}
	if err := s.Write(bg, id, sessions.Change{Set: sessions.Record{"b": []byte("2")}}, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a delta gave %v, want ErrNotFound", err)
	}
	if err := s.Write(bg, id, sessions.Change{}, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a touch gave %v, want ErrNotFound", err)
	}
	if err := s.Remove(bg, id, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Remove gave %v, want ErrNotFound", err)
	}
}

// TestDeltaThatEndsTheLifetime: a delta that sets a deadline already past
// ends the record, as a SetLifetime shorter than the session's age does,
// and a Replace with one leaves no record.
func TestDeltaThatEndsTheLifetime(t *testing.T) {
	s := newTestStore(t)
	id := testID("ended")
	past := millis(time.Now().Add(-time.Second))
	mustNil(t, s.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"__deadline": millis(time.Now().Add(time.Hour))}}, time.Hour))
	if err := s.Write(bg, id, sessions.Change{Set: sessions.Record{"__deadline": past}}, time.Hour); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a delta that sets a deadline already past gave %v, want ErrNotFound", err)
	}
	if _, err := s.Read(bg, id); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read after it gave %v, want ErrNotFound", err)
	}
	if err := s.Write(bg, id, sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"__deadline": past}}, time.Hour); err != nil {
		t.Errorf("a Replace with a deadline already past gave %v, want nil", err)
	}
	if _, err := s.Read(bg, id); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read after a Replace with a deadline already past gave %v, want ErrNotFound", err)
	}
}

// TestWriteOnlyRequestAfterLifetime goes through the Manager: a request
// that only writes does not read the session, so it is the store that must
// refuse a session past its lifetime; the Manager then starts a new one
// that holds the write. Without the cap, the write lands in the dead record
// and the next request, which reads it, finds the value gone.
//
// The sleeps only let the lifetime run out. The second request extends an
// uncapped record to about 1.6 s after creation; the third comes at 1.1 s.
// A stalled machine can move it past that, and then the test cannot tell a
// store without the cap, but it never fails with one.
func TestWriteOnlyRequestAfterLifetime(t *testing.T) {
	const lifetime = time.Second
	m := sessions.New(newTestStore(t), sessions.WithLifetime(lifetime), sessions.WithCookieSecure(false))
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("set"); v != "" {
			sessions.Get(r).Set("k", v)
			return
		}
		io.WriteString(w, sessions.Get(r).GetString("k"))
	})))
	defer srv.Close()
	c := &cookieClient{t: t, url: srv.URL, name: m.CookieName()}
	c.get("?set=1")
	created, first := time.Now(), c.id
	time.Sleep(time.Until(created.Add(lifetime * 6 / 10)))
	c.get("?set=2")
	time.Sleep(time.Until(created.Add(lifetime * 11 / 10)))
	c.get("?set=3")
	if c.id == first {
		t.Error("a write-only request after the lifetime kept the old session")
	}
	if got := c.get(""); got != "3" {
		t.Errorf("the value written after the lifetime reads %q, want \"3\"", got)
	}
}

// cookieClient sends requests with the session cookie it was last given.
type cookieClient struct {
	t         *testing.T
	url, name string
	id        string
}

func (c *cookieClient) get(query string) string {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.url+"/"+query, nil)
	mustNil(c.t, err)
	if c.id != "" {
		req.AddCookie(&http.Cookie{Name: c.name, Value: c.id})
	}
	res, err := http.DefaultClient.Do(req)
	mustNil(c.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	mustNil(c.t, err)
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("GET /%s: %s %s", query, res.Status, body)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == c.name {
			c.id = ck.Value
		}
	}
	return string(body)
}
