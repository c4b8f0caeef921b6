// The consumer of mysqlstore.
package main

import (
	"context"
	"database/sql"
	"log"
	"os"

	_ "github.com/go-sql-driver/mysql"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/mysqlstore"
)

func main() {
	db, err := sql.Open("mysql", os.Getenv("SESSIONS_MYSQL_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	st, err := mysqlstore.New(context.Background(), db, mysqlstore.WithTable("releasecheck_sessions"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := roundTrip(sessions.New(st, sessions.WithCookieSecure(false)), nil); err != nil {
		log.Fatal(err)
	}
}
