// Package e2e holds the browser tests of the demo application: Debian's
// Chromium (/usr/bin/chromium), driven with chromedp, against the demo
// served on http://localhost, on the memory store and on the Redis at
// REDIS_ADDR. They check the two-tab logout, the race of a log in with a
// logout, the cookie as the browser stores it, and the demo's race panel.
//
//	cd e2e && go test ./...                                 # skips what is missing
//	cd e2e && CI=true REDIS_ADDR=127.0.0.1:6379 go test ./... # fails on what is missing
//	cd e2e && UPDATE_SCREENSHOTS=1 go test -run TestScreenshots  # rewrites ../docs/*.png
//
// It is a module of its own so that the root module's tests never need a
// browser.
package e2e
