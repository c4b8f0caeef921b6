// The consumer of ginsessions.
package main

import (
	"log"

	"github.com/gin-gonic/gin"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/ginsessions"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	st := sessions.NewMemoryStore()
	defer st.Close()
	m := sessions.New(st, sessions.WithCookieSecure(false))
	r := gin.New()
	r.Use(ginsessions.Middleware(m))
	r.Any("/*path", gin.WrapH(app()))
	if err := roundTrip(m, r); err != nil {
		log.Fatal(err)
	}
}
