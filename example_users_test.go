package sessions_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/sessions"
)

// logIn serves one request through h that logs in as user, and returns
// the session cookie it set.
func logIn(h http.Handler, user string) *http.Cookie {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login?user="+user, nil))
	return w.Result().Cookies()[0]
}

// demoApp is the application of the examples below.
func demoApp(m *sessions.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		s.Login(r.URL.Query().Get("user")) // after checking the password
		s.SetLabel("Firefox on Linux")     // derived from the User-Agent
	})
	mux.HandleFunc("/others", func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).DestroyOthers()
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, sessions.Get(r).UserID())
	})
	return m.Handler(mux)
}

// whoami returns the user a request with cookie sees.
func whoami(h http.Handler, cookie *http.Cookie) string {
	r := httptest.NewRequest(http.MethodGet, "/whoami", nil)
	r.AddCookie(cookie)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Body.Len() == 0 {
		return "(logged out)"
	}
	return w.Body.String()
}

func ExampleSession_Login() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	h := demoApp(sessions.New(store))

	laptop := logIn(h, "alice")
	fmt.Println(whoami(h, laptop))
	// Output: alice
}

func ExampleManager_UserSessions() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store)
	h := demoApp(m)
	logIn(h, "alice")
	logIn(h, "alice")

	list, err := m.UserSessions(context.Background(), "alice")
	if err != nil {
		panic(err)
	}
	for _, d := range list {
		fmt.Println(len(d.Handle), d.UserID, d.Label)
	}
	// Output:
	// 64 alice Firefox on Linux
	// 64 alice Firefox on Linux
}

func ExampleSession_DestroyOthers() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	h := demoApp(sessions.New(store))
	laptop, phone := logIn(h, "alice"), logIn(h, "alice")

	r := httptest.NewRequest(http.MethodPost, "/others", nil)
	r.AddCookie(laptop)
	h.ServeHTTP(httptest.NewRecorder(), r)

	fmt.Println("laptop:", whoami(h, laptop))
	fmt.Println("phone:", whoami(h, phone))
	// Output:
	// laptop: alice
	// phone: (logged out)
}

func ExampleManager_DestroyUser() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store)
	h := demoApp(m)
	laptop, phone := logIn(h, "alice"), logIn(h, "alice")

	// The password changed: log out everywhere. This works outside any
	// request too, from an admin tool or a job.
	if err := m.DestroyUser(context.Background(), "alice"); err != nil {
		panic(err)
	}
	fmt.Println("laptop:", whoami(h, laptop))
	fmt.Println("phone:", whoami(h, phone))
	// Output:
	// laptop: (logged out)
	// phone: (logged out)
}

func ExampleSession_Commit() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		s.Set("draft", "saved")
		// Commit before answering, to tell the user the truth.
		switch err := s.Commit(); {
		case errors.Is(err, sessions.ErrInvalidated):
			fmt.Fprint(w, "you were logged out meanwhile: not saved")
		case err != nil:
			http.Error(w, "could not save", http.StatusServiceUnavailable)
		default:
			fmt.Fprint(w, "saved")
		}
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", nil))
	fmt.Println(w.Body.String())
	// Output: saved
}
