//go:build !go1.25

package demoapp

import "net/http"

// crossOriginChecked reports whether protect refuses cross-origin requests;
// the test of it runs only when it does.
const crossOriginChecked = false

// protect returns h as it is: CrossOriginProtection came with Go 1.25, and
// the root module builds with older versions. The cookie's SameSite=Lax
// still keeps other sites' POSTs from carrying the session.
func protect(h http.Handler) http.Handler { return h }
