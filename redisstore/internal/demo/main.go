// Command demo serves the demo application of examples/demoapp on the
// Redis store (at most 5 sessions per user). From the redisstore directory:
//
//	go run ./internal/demo -redis redis://127.0.0.1:6379/0 -port 8080
//
// The address comes from -redis, else from REDIS_URL, else
// redis://127.0.0.1:6379/0.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/demoapp"
	"github.com/sessionkit/sessions/redisstore"
)

func main() {
	def := os.Getenv("REDIS_URL")
	if def == "" {
		def = "redis://127.0.0.1:6379/0"
	}
	url := flag.String("redis", def, "Redis URL; REDIS_URL sets the default")
	port := flag.Int("port", 8080, "port to listen on, on localhost")
	flag.Parse()

	opts, err := redis.ParseURL(*url)
	if err != nil {
		log.Fatalf("bad Redis URL %q: %v", *url, err)
	}
	opts.ContextTimeoutEnabled = true
	// go-redis logs each failed dial of its pool; the demo says once what
	// is wrong, and the session errors reach its own log.
	redis.SetLogger(quietLogger{})
	client := redis.NewClient(opts)
	defer client.Close()

	// The store is made before the client's first command: it adds a hook
	// to the client, which go-redis allows only while the client is idle.
	store := redisstore.New(client)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := store.Ping(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "Redis at %s cannot keep sessions: %v\nStart one (redis-server) or pass -redis / REDIS_URL.\n", opts.Addr, err)
		os.Exit(1)
	}
	m := sessions.New(store,
		sessions.WithIdleTimeout(30*time.Minute),
		sessions.WithLifetime(12*time.Hour),
		sessions.WithMaxSessions(5),
	)
	if err := demoapp.Serve(*port, demoapp.Routes(m, demoapp.Config{})); err != nil {
		log.Fatal(err)
	}
}

// quietLogger drops go-redis's internal log lines.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...interface{}) {}
