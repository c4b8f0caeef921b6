// The consumer of the root module: the memory store.
package main

import (
	"log"

	"github.com/sessionkit/sessions"
)

func main() {
	st := sessions.NewMemoryStore()
	defer st.Close()
	if err := roundTrip(sessions.New(st, sessions.WithCookieSecure(false)), nil); err != nil {
		log.Fatal(err)
	}
}
