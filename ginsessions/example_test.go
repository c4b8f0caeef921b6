package ginsessions_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/ginsessions"
)

// A gin app with log in, a page for logged in users, and log out, every
// handler writing a body: the case an adapter that only sets c.Request gets
// wrong.
func Example() {
	store := sessions.NewMemoryStore()
	defer store.Close()
	m := sessions.New(store)

	r := gin.New()
	r.Use(gin.Recovery(), ginsessions.Middleware(m)) // Recovery first: a panic commits nothing
	r.POST("/login", func(c *gin.Context) {
		sessions.Get(c.Request).Login(c.PostForm("user")) // check the password first
		c.String(http.StatusOK, "welcome %s\n", c.PostForm("user"))
	})
	r.GET("/", func(c *gin.Context) {
		user := sessions.Get(c.Request).UserID()
		if user == "" {
			c.String(http.StatusUnauthorized, "log in first\n")
			return
		}
		c.String(http.StatusOK, "hello %s\n", user)
	})
	r.POST("/logout", func(c *gin.Context) {
		sessions.Get(c.Request).Destroy()
		c.String(http.StatusOK, "bye\n")
	})
	// A program serves r with http.ListenAndServe; here a test server
	// does, and a client with a cookie jar plays the browser.
	srv := httptest.NewTLSServer(r)
	defer srv.Close()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	show := func(res *http.Response, err error) {
		if err != nil {
			fmt.Println(err)
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Printf("%d %s", res.StatusCode, body)
	}

	show(client.PostForm(srv.URL+"/login", url.Values{"user": {"alice"}}))
	show(client.Get(srv.URL + "/"))
	show(client.PostForm(srv.URL+"/logout", nil))
	show(client.Get(srv.URL + "/"))
	// Output:
	// 200 welcome alice
	// 200 hello alice
	// 200 bye
	// 401 log in first
}
