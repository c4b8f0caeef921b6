package sessions_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sessionkit/sessions"
)

func Example() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store)

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		n := s.GetInt("visits") + 1
		s.Set("visits", n)
		fmt.Fprintf(w, "visit %d", n)
	})
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()

	var cookie string
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if c := resp.Cookies(); len(c) > 0 {
			cookie = c[0].Name + "=" + c[0].Value
		}
		fmt.Println(string(body))
	}
	// Output:
	// visit 1
	// visit 2
	// visit 3
}

func ExampleSession_Renew() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store)
	login := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// After checking the password: a fresh ID for the logged-in user,
		// so an ID planted before the log in is worthless.
		s := sessions.Get(r)
		s.Renew()
		s.Set("user", "alice")
	}))
	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", nil))
	fmt.Println(strings.HasPrefix(w.Header().Get("Set-Cookie"), "__Host-session="))
	// Output: true
}

func ExampleSession_Destroy() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store)
	logout := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).Destroy()
	}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/logout", nil)
	r.Header.Set("Cookie", "__Host-session=Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmFyYmF6Zm9vYmE")
	logout.ServeHTTP(w, r)
	fmt.Println(strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0"))
	// Output: true
}

func ExampleSession_PopString() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store)
	mux := http.NewServeMux()
	mux.HandleFunc("/save", func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).Set("flash", "Saved.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Shown once: PopString deletes the message as it reads it.
		fmt.Fprint(w, sessions.Get(r).PopString("flash"))
	})
	h := m.Handler(mux)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/save", nil))
	cookie := w.Result().Cookies()[0]
	for i := 0; i < 2; i++ {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(cookie)
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%q\n", w.Body.String())
	}
	// Output:
	// "Saved."
	// ""
}

func ExampleSession_Decode() {
	type cart struct {
		Items []string
		Total int
	}
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		s.Set("cart", cart{Items: []string{"tea"}, Total: 4})
		var c cart
		if err := s.Decode("cart", &c); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Println(c.Items, c.Total)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	// Output: [tea] 4
}

func ExampleNew() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store,
		sessions.WithIdleTimeout(30*time.Minute),
		sessions.WithLifetime(12*time.Hour),
		sessions.WithCookieName("id"),
	)
	fmt.Println(m.CookieName())
	// Output: __Host-id
}
