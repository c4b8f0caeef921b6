// Command otel-demo serves a session counter and prints the session metrics
// to stdout every few seconds, and once more on Ctrl-C:
//
//	go run ./cmd/otel-demo
//	curl -c jar -b jar -X POST localhost:8080/count   # a few times
//	curl -c jar -b jar -X POST localhost:8080/logout
//
// The cookie is not Secure here, so that curl sends it over plain HTTP.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/sessionkit/sessions"
	sessionsotel "github.com/sessionkit/sessions/examples/otel"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	every := flag.Duration("every", 10*time.Second, "how often to print the metrics")
	flag.Parse()
	if err := run(*addr, *every); err != nil {
		log.Fatal(err)
	}
}

func run(addr string, every time.Duration) error {
	exporter, err := stdoutmetric.New(stdoutmetric.WithPrettyPrint())
	if err != nil {
		return fmt.Errorf("stdout exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(
		sdkmetric.NewPeriodicReader(exporter, sdkmetric.WithInterval(every))))
	// Shutdown flushes: the last counts are printed before exit.
	defer func() { _ = provider.Shutdown(context.Background()) }()

	events, err := sessionsotel.Events(provider.Meter("github.com/sessionkit/sessions"))
	if err != nil {
		return err
	}
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store, sessions.WithEvents(events), sessions.WithCookieSecure(false))

	srv := &http.Server{Addr: addr, Handler: m.Handler(routes()), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	log.Printf("listening on %s", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /count", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		n := s.GetInt("count") + 1
		s.Set("count", n)
		fmt.Fprintf(w, "count %d\n", n)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		sessions.Get(r).Destroy()
		fmt.Fprintln(w, "logged out")
	})
	return mux
}
