module github.com/sessionkit/sessions/mysqlstore

go 1.24.0

replace github.com/sessionkit/sessions => ../

require (
	github.com/go-sql-driver/mysql v1.10.1
	github.com/sessionkit/sessions v0.0.0-00010101000000-000000000000
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/redis/go-redis/v9 v9.17.3 // indirect
)
