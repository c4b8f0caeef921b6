module github.com/sessionkit/sessions/benchmarks

go 1.23

require (
	github.com/alexedwards/scs/goredisstore v0.0.0-20250212122300-421ef1d8611c
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/alicebob/miniredis/v2 v2.40.0
	github.com/gorilla/sessions v1.4.0
	github.com/redis/go-redis/v9 v9.17.3
	github.com/sessionkit/sessions v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/yuin/gopher-lua v1.1.1 // indirect
)

replace github.com/sessionkit/sessions => ../
