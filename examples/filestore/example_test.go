package filestore_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/examples/filestore"
)

func Example() {
	store, err := filestore.New("/var/lib/myapp/sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	m := sessions.New(store)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Get(r)
		s.Set("visits", s.GetInt("visits")+1)
		fmt.Fprintln(w, "visits:", s.GetInt("visits"))
	})
	log.Fatal(http.ListenAndServe("localhost:8080", m.Handler(mux)))
}
