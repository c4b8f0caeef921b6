module github.com/sessionkit/sessions/sqlstore

go 1.22

require github.com/sessionkit/sessions v0.1.0

replace github.com/sessionkit/sessions => ../
