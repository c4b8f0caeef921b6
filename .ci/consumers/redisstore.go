// The consumer of redisstore.
package main

import (
	"log"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/redisstore"
)

func main() {
	client := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	defer client.Close()
	st := redisstore.New(client, redisstore.WithKeyPrefix("releasecheck:"))
	if err := roundTrip(sessions.New(st, sessions.WithCookieSecure(false)), nil); err != nil {
		log.Fatal(err)
	}
}
