// Command basic serves the demo application on the in-memory store: log in,
// the two-tab race, and a devices page (at most 5 sessions per user).
//
//	go run ./examples/basic -port 8080
package main

import (
	"flag"
	"log"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/demoapp"
)

func main() {
	port := flag.Int("port", 8080, "port to listen on, on localhost")
	flag.Parse()

	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store,
		sessions.WithIdleTimeout(30*time.Minute),
		sessions.WithLifetime(12*time.Hour),
		sessions.WithMaxSessions(5),
	)
	if err := demoapp.Serve(*port, demoapp.Routes(m, demoapp.Config{})); err != nil {
		log.Fatal(err)
	}
}
