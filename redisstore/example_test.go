package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/redisstore"
)

// A complete program: sessions in a single Redis server, checked at
// start-up, counting each visitor's visits.
func Example() {
	// ContextTimeoutEnabled lets the Manager's commit timeout reach the
	// connection.
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	// Create the store before the client's first command: New adds a hook
	// to the client.
	store := redisstore.New(client)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := store.Ping(ctx); err != nil {
		log.Fatalf("Redis cannot keep sessions: %v", err)
	}

	m := sessions.New(store, sessions.WithIdleTimeout(30*time.Minute))
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		n := s.GetInt("visits") + 1
		s.Set("visits", n)
		fmt.Fprintf(w, "visit %d\n", n)
	})
	log.Fatal(http.ListenAndServe("localhost:8080", m.Handler(mux)))
}

// Sentinel, with every logout acknowledged by a replica before the user
// sees it succeed, so that a failover cannot undo it.
func ExampleWithWaitReplicas() {
	client := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            "mymaster",
		SentinelAddrs:         []string{"sentinel-1:26379", "sentinel-2:26379", "sentinel-3:26379"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	// The WAIT timeout stays below the client's ReadTimeout (3 s by
	// default) and below the Manager's commit timeout.
	store := redisstore.New(client, redisstore.WithWaitReplicas(1, 500*time.Millisecond))
	m := sessions.New(store, sessions.WithCommitTimeout(2*time.Second))
	log.Fatal(http.ListenAndServe("localhost:8080", m.Handler(app)))
}

// A Redis Cluster, shared with other applications: each has its own prefix.
// A session's record is one key, in one hash slot.
func ExampleWithKeyPrefix() {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"node-1:6379", "node-2:6379", "node-3:6379"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store := redisstore.New(client, redisstore.WithKeyPrefix("myapp:session:"))
	m := sessions.New(store)
	log.Fatal(http.ListenAndServe("localhost:8080", m.Handler(app)))
}

// app stands for the application's handler.
var app = http.NewServeMux()

// What the store keeps in Redis: a hash per record, one field per key, and
// after a Remove the same key as a tombstone.
func Example_keyLayout() {
	srv, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	store := redisstore.New(client)
	ctx := context.Background()

	// The Manager hands the store a session's handle, the hex SHA-256 of
	// its ID; a short one stands for it here.
	id := "3f2a"
	ch := sessions.Change{Mode: sessions.ModeReplace, Set: sessions.Record{"user": []byte(`"alice"`), "visits": []byte("3")}}
	if err := store.Write(ctx, id, ch, time.Hour); err != nil {
		log.Fatal(err)
	}
	show(ctx, client)
	if err := store.Remove(ctx, id, 12*time.Hour); err != nil {
		log.Fatal(err)
	}
	show(ctx, client)
	// Output:
	// session:{3f2a} user="alice" visits=3 (expires in 1h0m0s)
	// session:{3f2a} __tomb=1 (expires in 12h0m0s)
}

// show prints every key with its fields and TTL.
func show(ctx context.Context, client *redis.Client) {
	for _, key := range client.Keys(ctx, "*").Val() {
		h := client.HGetAll(ctx, key).Val()
		fields := make([]string, 0, len(h))
		for f, v := range h {
			fields = append(fields, f+"="+v)
		}
		sort.Strings(fields)
		fmt.Printf("%s %s (expires in %v)\n", key, strings.Join(fields, " "), client.TTL(ctx, key).Val())
	}
}
