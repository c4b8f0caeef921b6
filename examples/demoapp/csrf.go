//go:build go1.25

package demoapp

import "net/http"

// crossOriginChecked reports whether protect refuses cross-origin requests;
// the test of it runs only when it does.
const crossOriginChecked = true

// protect refuses cross-origin requests that change state (CSRF) with Go
// 1.25's CrossOriginProtection, as the README's quick start does. It goes
// outside the session middleware, so a refused request costs no store call.
func protect(h http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(h)
}
