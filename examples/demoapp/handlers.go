package demoapp

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sessionkit/sessions"
)

// base is what every page shows: the session in the header, a flash.
type base struct {
	Page, User, Handle, Flash, Cookie string
}

// homeView is what the home page shows.
type homeView struct {
	base
	Notice   string
	Count    int
	SlowWait time.Duration
}

// home shows the session: user, handle, counter, flash, and the race panel.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	v := homeView{
		base:  a.base("home", s),
		Count: s.GetInt("count"), Notice: notice(r.URL.Query()), SlowWait: a.cfg.SlowWait,
	}
	a.render(w, "home", v)
}

// notice is the message for a redirect that could not leave a flash in the
// session, because the session was gone by then.
func notice(q url.Values) string {
	switch q.Get("m") {
	case "out":
		h := short(q.Get("h"))
		if h == "" || !isHex(h) {
			return "Logged out."
		}
		return "Logged out. Session " + h + " is dead for good: no request still holding it can write it back."
	case "login-refused":
		return "Log in was refused: this session ended while the log in ran (a log out in another tab). You are logged out; log in again."
	}
	return ""
}

// base fills in what every page shows, popping the flash.
func (a *app) base(page string, s *sessions.Session) base {
	return base{
		Page: page, User: s.UserID(), Handle: short(s.Handle()),
		Flash: s.PopString("flash"), Cookie: a.m.CookieName(),
	}
}

// render executes a page template.
func (a *app) render(w http.ResponseWriter, page string, v any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := a.pages[page].Execute(w, v); err != nil {
		log.Printf("demo: render %s: %v", page, err)
	}
}

// pause marks step as reached, then waits d, or until the request ends.
func (a *app) pause(ctx context.Context, step string, d time.Duration) {
	if a.cfg.Reached != nil {
		a.cfg.Reached(ctx, step)
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// login binds the session to the user, which gives it a fresh ID, and
// labels it with a device name derived from the User-Agent. It commits
// before redirecting, so that a log in refused because a logout in another
// tab ended the session says so.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	user := strings.TrimSpace(r.PostFormValue("user"))
	if user == "" || len(user) > 64 {
		http.Error(w, "a name of 1 to 64 bytes is required", http.StatusBadRequest)
		return
	}
	s := sessions.Get(r)
	was := short(s.Handle())
	a.pause(r.Context(), "login", a.cfg.LoginWait)
	s.Login(user)
	s.RememberMe(r.PostFormValue("remember") != "")
	s.SetLabel(deviceName(r.UserAgent()))
	flash := "Welcome, " + user + ". Log in gave you a fresh session ID."
	if was != "" {
		flash = "Welcome, " + user + ". Log in moved you from session " + was + " to a fresh ID; " + was + " is dead."
	}
	s.Set("flash", flash)
	if err := s.Commit(); err != nil {
		if errors.Is(err, sessions.ErrInvalidated) {
			http.Redirect(w, r, "/?m=login-refused", http.StatusSeeOther)
			return
		}
		serverError(w, "log in", err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// count adds one to the counter; it needs no log in.
func (a *app) count(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	s.Set("count", s.GetInt("count")+1)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session. The race panel asks for JSON; a form gets a
// redirect that names the ended session in the URL, as the session that
// could carry a flash is gone.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	h := short(s.Handle())
	a.pause(r.Context(), "logout", a.cfg.LogoutWait)
	s.Destroy()
	err := s.Commit()
	if wantsJSON(r) {
		out := map[string]string{"outcome": "destroyed", "handle": h}
		if err != nil {
			out["outcome"], out["error"] = "error", err.Error()
		}
		writeJSON(w, out)
		return
	}
	if err != nil {
		serverError(w, "log out", err)
		return
	}
	http.Redirect(w, r, "/?m=out&h="+h, http.StatusSeeOther)
}

// state is the session as JSON, for scripts and tests.
func (a *app) state(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	writeJSON(w, map[string]any{"user": s.UserID(), "handle": short(s.Handle()), "count": s.GetInt("count")})
}

// wantsHTML reports whether the client asked for a page, as a browser
// does when it opens a URL; fetch() and curl ask for anything (*/*).
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// wantsJSON reports whether the client asked for a JSON answer.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// writeJSON sends v as the JSON body of the response.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("demo: write response: %v", err)
	}
}

// serverError logs a store failure and answers 500 without its detail.
func serverError(w http.ResponseWriter, what string, err error) {
	log.Printf("demo: %s: %v", what, err)
	http.Error(w, "the session store failed; try again", http.StatusInternalServerError)
}

// isHex reports whether s is lowercase hex digits only.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
