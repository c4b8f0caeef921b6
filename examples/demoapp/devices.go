package demoapp

import (
	"errors"
	"net/http"

	"github.com/sessionkit/sessions"
)

// devicesView is what the devices page shows.
type devicesView struct {
	base
	Devices []device
}

// device is one row of the devices page.
type device struct {
	sessions.SessionInfo
	This bool
}

// devices lists the live sessions of the logged in user.
func (a *app) devices(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	user := s.UserID()
	if user == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	list, err := a.m.UserSessions(r.Context(), user)
	if err != nil {
		serverError(w, "list sessions", err)
		return
	}
	v := devicesView{base: a.base("devices", s), Devices: thisFirst(list, s.Handle())}
	a.render(w, "devices", v)
}

// thisFirst returns the rows of the devices page: the session named by
// this first, then the others, most recently active first as
// UserSessions lists them. Sorting by activity alone would put the device
// in use wherever its last write left it, as reading a page does not move
// its LastActive.
func thisFirst(list []sessions.SessionInfo, this string) []device {
	rows := make([]device, 0, len(list))
	for _, info := range list {
		if info.Handle == this {
			rows = append(rows, device{SessionInfo: info, This: true})
		}
	}
	for _, info := range list {
		if info.Handle != this {
			rows = append(rows, device{SessionInfo: info})
		}
	}
	return rows
}

// revoke ends one of the user's sessions, named by its handle. Revoking
// this device is logging out.
func (a *app) revoke(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	user, h := s.UserID(), r.PostFormValue("handle")
	switch {
	case user == "":
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	case h == s.Handle():
		s.Destroy()
		http.Redirect(w, r, "/?m=out&h="+short(h), http.StatusSeeOther)
		return
	}
	err := a.m.DestroySession(r.Context(), user, h)
	switch {
	case errors.Is(err, sessions.ErrNotFound):
		s.Set("flash", "That device was logged out already.")
	case err != nil:
		serverError(w, "revoke", err)
		return
	default:
		s.Set("flash", "Device "+short(h)+" is logged out.")
	}
	http.Redirect(w, r, "/devices", http.StatusSeeOther)
}

// others logs out every other device of the user.
func (a *app) others(w http.ResponseWriter, r *http.Request) {
	s := sessions.Get(r)
	if s.UserID() == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.DestroyOthers()
	s.Set("flash", "Every other device is logged out; this one stays.")
	if err := s.Commit(); err != nil && !errors.Is(err, sessions.ErrInvalidated) {
		serverError(w, "log out other devices", err)
		return
	}
	http.Redirect(w, r, "/devices", http.StatusSeeOther)
}
