// Package demoapp is the small web application that the example programs
// serve on different stores, and that the browser tests drive: log in
// (which gives the session a fresh ID), a counter, a flash message, a slow
// request, log out, a race panel that runs the two-tab logout in one click,
// and a devices page. It is an example, not a stable API.
package demoapp

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sessionkit/sessions"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config tunes the demo's slow steps, so that tests can choose the timing
// of a race. The zero Config is the demo as people click it.
type Config struct {
	// SlowWait is how long the slow request waits between reading the
	// session and writing to it. Default (zero): 3 seconds.
	SlowWait time.Duration
	// LoginWait is how long log in waits between reading the session and
	// logging in. Default: no wait.
	LoginWait time.Duration
	// LogoutWait is how long log out waits between reading the session and
	// destroying it. Default: no wait.
	LogoutWait time.Duration
	// Reached, when set, is called by the slow request, log in and log out
	// ("slow", "login", "logout") once they have read the session and
	// before they wait and write. It may block to hold the request there:
	// tests use it to force the order of two requests. Default: none.
	Reached func(ctx context.Context, step string)
}

// holdMax bounds how long a slow request waits for its release.
const holdMax = 30 * time.Second

// app is the demo: its Manager, its timing, and the slow requests that wait
// for a release from the race panel.
type app struct {
	m     *sessions.Manager
	cfg   Config
	pages map[string]*template.Template
	mu    sync.Mutex
	holds map[string]chan struct{}
}

// Routes returns the demo's handler, wrapped in m, with cross-origin
// requests that change state refused before they reach it.
func Routes(m *sessions.Manager, cfg Config) http.Handler {
	if cfg.SlowWait <= 0 {
		cfg.SlowWait = 3 * time.Second
	}
	a := &app{m: m, cfg: cfg, pages: parsePages(), holds: map[string]chan struct{}{}}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /api/state", a.state)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /count", a.count)
	mux.HandleFunc("/slow", a.slow)
	mux.HandleFunc("POST /release", a.release)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /devices", a.devices)
	mux.HandleFunc("POST /devices/revoke", a.revoke)
	mux.HandleFunc("POST /devices/others", a.others)
	return protect(m.Handler(mux))
}

// parsePages parses each page together with the layout.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{"short": short, "ago": ago, "stamp": stamp}
	pages := map[string]*template.Template{}
	for _, name := range []string{"home", "devices"} {
		t := template.New("layout.html").Funcs(funcs)
		pages[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	// The slow request's page is sent in parts as the request goes on, so
	// it has no layout around it.
	pages["slow"] = template.Must(template.New("slow.html").ParseFS(templateFS, "templates/slow.html"))
	return pages
}

// short is the first 8 hex digits of a handle: enough to tell sessions
// apart on a page.
func short(handle string) string {
	if len(handle) > 8 {
		return handle[:8]
	}
	return handle
}

// ago says how long ago t was, in words.
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
}

// stamp is t to the second, for a title attribute.
func stamp(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") }

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
