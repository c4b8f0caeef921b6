module github.com/sessionkit/sessions/e2e

go 1.25

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/redis/go-redis/v9 v9.17.3
	github.com/sessionkit/sessions v0.1.0
	github.com/sessionkit/sessions/redisstore v0.1.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
)

replace github.com/sessionkit/sessions => ../

replace github.com/sessionkit/sessions/redisstore => ../redisstore
