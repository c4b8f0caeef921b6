// The consumer of pgstore.
package main

import (
	"context"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/pgstore"
)

func main() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("SESSIONS_PG_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	st, err := pgstore.New(ctx, pool, pgstore.WithTable("releasecheck_sessions"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := roundTrip(sessions.New(st, sessions.WithCookieSecure(false)), nil); err != nil {
		log.Fatal(err)
	}
}
