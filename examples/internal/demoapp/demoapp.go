// Package demoapp is the small web application that the example programs
// serve on different stores: log in (which renews the session ID), a
// counter, a flash message, a slow endpoint and log out.
package demoapp

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/sessionkit/sessions"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sessions demo</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
.flash { background: #eef6ee; border: 1px solid #9c9; padding: .5rem 1rem; }
form { display: inline; }
section { margin: 1.5rem 0; }
code { background: #f4f4f4; padding: 0 .25rem; }
</style>
</head>
<body>
<h1>sessions demo</h1>
{{with .Flash}}<p class="flash">{{.}}</p>{{end}}
<section>
{{if .User}}
  <p>Logged in as <strong>{{.User}}</strong>.</p>
  <form method="post" action="/logout"><button>Log out</button></form>
{{else}}
  <form method="post" action="/login">
    <label>Name <input name="user" required autofocus></label>
    <label><input type="checkbox" name="remember" checked> Remember me</label>
    <button>Log in</button>
  </form>
{{end}}
</section>
<section>
  <p>Counter: <strong>{{.Count}}</strong></p>
  <form method="post" action="/count"><button>+1</button></form>
</section>
<section>
  <p><a href="/slow" target="_blank">/slow</a> reads the session, waits {{.Wait}}, then writes a key.
  Open it, log out in this tab while it waits: its write is refused and the logout sticks.</p>
  {{with .SlowDone}}<p>Last slow request finished at {{.}}.</p>{{end}}
</section>
</body>
</html>
`))

// SlowWait is how long /slow waits between its read and its write.
const SlowWait = 5 * time.Second

// Routes returns the demo's handler, wrapped in m.
func Routes(m *sessions.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		s := sessions.Get(r)
		data := struct {
			User, Flash, SlowDone string
			Count                 int
			Wait                  time.Duration
		}{s.GetString("user"), s.PopString("flash"), s.GetString("slow_done"), s.GetInt("count"), SlowWait}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, data); err != nil {
			log.Print(err)
		}
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		user := r.PostFormValue("user")
		if user == "" {
			http.Error(w, "a name is required", http.StatusBadRequest)
			return
		}
		s := sessions.Get(r)
		s.Renew()
		s.RememberMe(r.PostFormValue("remember") != "")
		s.Set("user", user)
		s.Set("flash", "Welcome, "+user+". Your session has a new ID.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			s := sessions.Get(r)
			s.Set("count", s.GetInt("count")+1)
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		user := s.GetString("user")
		select {
		case <-time.After(SlowWait):
		case <-r.Context().Done():
		}
		s.Set("slow_done", time.Now().Format(time.TimeOnly))
		fmt.Fprintf(w, "read user %q, waited %v, wrote slow_done\n", user, SlowWait)
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			s := sessions.Get(r)
			s.Destroy()
			s.Set("flash", "Logged out. The old session ID is dead for good.")
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	return m.Handler(mux)
}

// Serve serves h on localhost:port until SIGINT or SIGTERM, printing the URL.
// Browsers treat http://localhost as secure, so the default Secure,
// __Host- prefixed cookie works there.
func Serve(port int, h http.Handler) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("localhost", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	fmt.Printf("Listening on http://localhost:%d/ (Ctrl-C to stop)\n", ln.Addr().(*net.TCPAddr).Port)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
