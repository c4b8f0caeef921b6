package demoapp

import (
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/sessionkit/sessions"
)

// SlowEvent is one line of the slow request's response, a stream of JSON
// lines: first what it read ("read"), sent at once, then how its write
// ended ("write"), after the wait.
type SlowEvent struct {
	Step    string `json:"step"`
	User    string `json:"user,omitempty"`
	Handle  string `json:"handle,omitempty"`
	Outcome string `json:"outcome,omitempty"` // "written", "refused", "skipped" or "error"
	Error   string `json:"error,omitempty"`
}

// slow reads the session, tells the client so at once, waits, then writes
// a key and reports what Commit said. With ?hold=TOKEN it waits for POST
// /release with that token instead of SlowWait, so that the race panel can
// log out first, however slow the machine. A browser tab that opens it gets
// a page; a script gets the events as JSON lines.
func (a *app) slow(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		return
	}
	s := sessions.Get(r)
	token := r.URL.Query().Get("hold")
	hold := a.hold(token)
	if hold != nil {
		defer a.unhold(token, hold)
	}
	report := a.slowReport(w, r, hold != nil)
	user := s.UserID()
	report(SlowEvent{Step: "read", User: user, Handle: short(s.Handle())})
	if err := http.NewResponseController(w).Flush(); err != nil {
		return
	}
	if user == "" {
		report(SlowEvent{Step: "write", Outcome: "skipped", Error: "not logged in: nothing to write"})
		return
	}
	a.wait(r, hold)
	s.Set("slow_done", time.Now().Format(time.TimeOnly))
	report(writeEvent(s.Commit()))
}

// slowView is what the slow request's page shows of one event.
type slowView struct {
	SlowEvent
	Wait string // how long the request waits between the read and the write
}

// slowReport sets the response's type and returns what sends each event:
// a part of a page for a browser tab that navigated to /slow (it asks for
// HTML), else a JSON line, for the race panel and other scripts.
func (a *app) slowReport(w http.ResponseWriter, r *http.Request, held bool) func(SlowEvent) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !wantsHTML(r) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		// An error here is the client gone, which the Flush after the read
		// reports and the write's Commit does not depend on.
		return func(e SlowEvent) { _ = enc.Encode(e) }
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	wait := a.cfg.SlowWait.String()
	if held {
		wait = "until it is released"
	}
	return func(e SlowEvent) {
		if err := a.pages["slow"].ExecuteTemplate(w, "slow-"+e.Step, slowView{e, wait}); err != nil {
			log.Printf("demo: render slow %s: %v", e.Step, err)
		}
	}
}

// wait waits for the release of hold, or SlowWait without one.
func (a *app) wait(r *http.Request, hold chan struct{}) {
	if hold == nil {
		a.pause(r.Context(), "slow", a.cfg.SlowWait)
		return
	}
	a.pause(r.Context(), "slow", 0)
	t := time.NewTimer(holdMax)
	defer t.Stop()
	select {
	case <-hold:
	case <-t.C:
	case <-r.Context().Done():
	}
}

// writeEvent is the "write" line for what Commit returned.
func writeEvent(err error) SlowEvent {
	switch {
	case err == nil:
		return SlowEvent{Step: "write", Outcome: "written"}
	case errors.Is(err, sessions.ErrInvalidated):
		return SlowEvent{Step: "write", Outcome: "refused", Error: err.Error()}
	default:
		return SlowEvent{Step: "write", Outcome: "error", Error: err.Error()}
	}
}

// hold registers a slow request waiting for token, or returns nil when
// the token is malformed, taken, or too many requests wait already.
func (a *app) hold(token string) chan struct{} {
	if len(token) < 16 || len(token) > 64 || !isHex(token) {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, taken := a.holds[token]; taken || len(a.holds) >= 100 {
		return nil
	}
	ch := make(chan struct{})
	a.holds[token] = ch
	return ch
}

// unhold drops the registration of hold, unless a release did already.
func (a *app) unhold(token string, hold chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.holds[token] == hold {
		delete(a.holds, token)
	}
}

// release lets the slow request waiting for the posted token go on.
func (a *app) release(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	a.mu.Lock()
	if ch, ok := a.holds[token]; ok {
		close(ch)
		delete(a.holds, token)
	}
	a.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
