package sessions

import (
	"encoding/base64"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestReadCookie(t *testing.T) {
	id, _ := newID()
	other, _ := newID()
	cases := []struct {
		name    string
		headers []string
		wantID  string
		wantRes cookieResult
	}{
		{"none", nil, "", cookieAbsent},
		{"other cookies only", []string{"a=1; b=2"}, "", cookieAbsent},
		{"alone", []string{"s=" + id}, id, cookieValid},
		{"among others", []string{"a=1; s=" + id + "; b=2"}, id, cookieValid},
		{"no spaces", []string{"a=1;s=" + id}, id, cookieValid},
		{"quoted", []string{`s="` + id + `"`}, id, cookieValid},
		{"second header", []string{"a=1", "s=" + id}, id, cookieValid},
		{"first well-formed wins", []string{"s=" + id + "; s=" + other}, id, cookieValid},
		{"malformed then valid", []string{"s=junk; s=" + id}, id, cookieValid},
		{"malformed", []string{"s=junk"}, "", cookieMalformed},
		{"empty value", []string{"s="}, "", cookieMalformed},
		{"prefix of the name", []string{"ss=" + id}, "", cookieAbsent},
		{"name without value", []string{"s"}, "", cookieAbsent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Cookie": c.headers}
			id, res := readCookie(h, "s")
			if id != c.wantID || res != c.wantRes {
				t.Fatalf("readCookie = %q, %v; want %q, %v", id, res, c.wantID, c.wantRes)
			}
		})
	}
}

func TestReadCookieAllocatesNothing(t *testing.T) {
	id, _ := newID()
	h := http.Header{"Cookie": {"theme=dark; __Host-session=" + id + "; lang=en"}}
	if n := testing.AllocsPerRun(100, func() { readCookie(h, "__Host-session") }); n != 0 {
		t.Fatalf("readCookie allocates %v times", n)
	}
}

// FuzzReadCookie: any header gives a clean outcome, never a panic, and an
// ID only when it is well-formed and present in the header.
func FuzzReadCookie(f *testing.F) {
	id, _ := newID()
	for _, s := range []string{"s=" + id, "a=1; s=" + id, `s="` + id + `"`, "s=;;;=", "s=" + strings.Repeat("A", 43), "\x00s=\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		got, res := readCookie(http.Header{"Cookie": {line}}, "s")
		switch res {
		case cookieValid:
			if !validID(got) || !strings.Contains(line, got) {
				t.Fatalf("readCookie(%q) = %q, not a well-formed ID from the header", line, got)
			}
		default:
			if got != "" {
				t.Fatalf("readCookie(%q) = %q with result %v", line, got, res)
			}
		}
	})
}

// FuzzValidID: validID accepts exactly the canonical unpadded base64url
// encodings of 32 bytes.
func FuzzValidID(f *testing.F) {
	id, _ := newID()
	f.Add(id)
	f.Add(id[:42] + "B")
	f.Add(strings.Repeat("_", 43))
	f.Add(strings.Repeat("0", 16) + "\r" + strings.Repeat("0", 27))
	f.Fuzz(func(t *testing.T, s string) {
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		want := err == nil && len(b) == idBytes && len(s) == idLen
		if got := validID(s); got != want {
			t.Fatalf("validID(%q) = %v, want %v", s, got, want)
		}
	})
}

// TestCookieMaxAgeRoundsUp: Max-Age is the time left in whole seconds,
// rounded up, and never wraps around into a negative, deleting, value.
func TestCookieMaxAgeRoundsUp(t *testing.T) {
	c := &cookieConfig{path: "/"}
	now := time.Unix(0, 0)
	for _, tt := range []struct {
		left time.Duration
		want string
	}{
		{time.Nanosecond, "; Max-Age=1;"},
		{time.Second, "; Max-Age=1;"},
		{1500 * time.Millisecond, "; Max-Age=2;"},
		{math.MaxInt64, "; Max-Age=9223372037;"},
	} {
		if got := c.header("s", "v", tt.left, now); !strings.Contains(got, tt.want) {
			t.Errorf("header with %v left = %q, want %q", tt.left, got, tt.want)
		}
	}
}
