// Command basic serves the demo application on the in-memory store.
//
//	go run ./examples/basic -port 8080
package main

import (
	"flag"
	"log"
	"time"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/internal/demoapp"
)

func main() {
	port := flag.Int("port", 8080, "port to listen on, on localhost")
	flag.Parse()

	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store,
		sessions.WithIdleTimeout(30*time.Minute),
		sessions.WithLifetime(12*time.Hour),
	)
	if err := demoapp.Serve(*port, demoapp.Routes(m)); err != nil {
		log.Fatal(err)
	}
}
