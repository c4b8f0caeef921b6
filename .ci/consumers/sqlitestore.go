// The consumer of sqlitestore.
package main

import (
	"context"
	"database/sql"
	"log"
	"os"
	"path/filepath"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sqlitestore"
	_ "modernc.org/sqlite"
)

func main() {
	dir, err := os.MkdirTemp("", "releasecheck")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "sessions.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	st, err := sqlitestore.New(context.Background(), db)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := roundTrip(sessions.New(st, sessions.WithCookieSecure(false)), nil); err != nil {
		log.Fatal(err)
	}
}
