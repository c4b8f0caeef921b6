package kit

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	gsessions "github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/benchmarks/internal/gorillaredis"
	"github.com/sessionkit/sessions/redisstore"
)

func ok(w http.ResponseWriter) { io.WriteString(w, "ok") }

func fail(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

// OursMemory is this library on its MemoryStore.
func OursMemory() *Lib {
	st := sessions.NewMemoryStore()
	l := ours(st, "memory")
	l.closers = append(l.closers, func() { st.Close() })
	return l
}

// OursRedis is this library on its Redis store, with its keys under prefix.
// Its scripts are loaded first, as an application does at start-up.
func OursRedis(ctx context.Context, c redis.UniversalClient, prefix string) (*Lib, error) {
	st := redisstore.New(c, redisstore.WithKeyPrefix(prefix))
	if err := st.LoadScripts(ctx); err != nil {
		return nil, err
	}
	return ours(st, "redis"), nil
}

func ours(st sessions.Store, store string) *Lib {
	m := sessions.New(st,
		sessions.WithIdleTimeout(IdleTimeout),
		sessions.WithTouchInterval(TouchInterval),
		sessions.WithLifetime(Lifetime),
	)
	if m.CookieName() != CookieName {
		panic("kit: cookie name " + m.CookieName())
	}
	hs := map[Op]http.HandlerFunc{
		Untouched: func(w http.ResponseWriter, r *http.Request) { ok(w) },
		Read: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, sessions.Get(r).GetString("user"))
		},
		Write: func(w http.ResponseWriter, r *http.Request) {
			sessions.Get(r).Set("n", NextValue())
			ok(w)
		},
		ReadWrite: func(w http.ResponseWriter, r *http.Request) {
			s := sessions.Get(r)
			s.Set("n", s.GetInt("n")+1)
			ok(w)
		},
		New: func(w http.ResponseWriter, r *http.Request) {
			sessions.Get(r).Set("user", "alice")
			ok(w)
		},
		Destroy: func(w http.ResponseWriter, r *http.Request) {
			sessions.Get(r).Destroy()
			ok(w)
		},
		Renew: func(w http.ResponseWriter, r *http.Request) {
			sessions.Get(r).Renew()
			ok(w)
		},
		Seed: func(w http.ResponseWriter, r *http.Request) {
			s := sessions.Get(r)
			s.Set("user", "alice")
			s.Set("role", "admin")
			s.Set("n", 1)
			ok(w)
		},
		SetKV: func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			sessions.Get(r).Set(q.Get("k"), q.Get("v"))
			ok(w)
		},
		Dump: func(w http.ResponseWriter, r *http.Request) {
			s := sessions.Get(r)
			for _, k := range s.Keys() {
				var raw json.RawMessage
				if err := s.Decode(k, &raw); err != nil {
					fail(w, err)
					return
				}
				v := string(raw)
				var str string
				if json.Unmarshal(raw, &str) == nil {
					v = str
				}
				fmt.Fprintf(w, "%s=%s\n", k, v)
			}
		},
	}
	l := &Lib{Name: "ours", Store: store, handlers: make(map[Op]http.Handler)}
	for op, h := range hs {
		l.handlers[op] = m.Handler(h)
	}
	return l
}

// SCSMemory is github.com/alexedwards/scs/v2 on its memstore.
func SCSMemory() *Lib {
	st := memstore.New()
	return scsLib(st, "memory")
}

// SCSRedis is github.com/alexedwards/scs/v2 on its go-redis store,
// github.com/alexedwards/scs/goredisstore, with its keys under prefix.
func SCSRedis(c *redis.Client, prefix string) *Lib {
	return scsLib(goredisstore.NewWithPrefix(c, prefix), "redis")
}

func scsLib(st scs.Store, store string) *Lib {
	sm := scs.New()
	sm.Store = st
	sm.IdleTimeout = IdleTimeout
	sm.Lifetime = Lifetime
	sm.Cookie.Name = CookieName
	sm.Cookie.Path = "/"
	sm.Cookie.Secure = true
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Persist = true
	hs := map[Op]http.HandlerFunc{
		Untouched: func(w http.ResponseWriter, r *http.Request) { ok(w) },
		Read: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, sm.GetString(r.Context(), "user"))
		},
		Write: func(w http.ResponseWriter, r *http.Request) {
			sm.Put(r.Context(), "n", NextValue())
			ok(w)
		},
		ReadWrite: func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			sm.Put(ctx, "n", sm.GetInt(ctx, "n")+1)
			ok(w)
		},
		New: func(w http.ResponseWriter, r *http.Request) {
			sm.Put(r.Context(), "user", "alice")
			ok(w)
		},
		Destroy: func(w http.ResponseWriter, r *http.Request) {
			if err := sm.Destroy(r.Context()); err != nil {
				fail(w, err)
				return
			}
			ok(w)
		},
		Renew: func(w http.ResponseWriter, r *http.Request) {
			if err := sm.RenewToken(r.Context()); err != nil {
				fail(w, err)
				return
			}
			ok(w)
		},
		Seed: func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			sm.Put(ctx, "user", "alice")
			sm.Put(ctx, "role", "admin")
			sm.Put(ctx, "n", 1)
			ok(w)
		},
		SetKV: func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			sm.Put(r.Context(), q.Get("k"), q.Get("v"))
			ok(w)
		},
		Dump: func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			for _, k := range sm.Keys(ctx) {
				fmt.Fprintf(w, "%s=%v\n", k, sm.Get(ctx, k))
			}
		},
	}
	l := &Lib{Name: "scs", Store: store, handlers: make(map[Op]http.Handler)}
	for op, h := range hs {
		l.handlers[op] = sm.LoadAndSave(h)
	}
	return l
}

// gorillaOptions are the options of every gorilla session: MaxAge is the
// idle timeout, which gorilla applies to the cookie and the store's expiry
// alike, from the last Save.
func gorillaOptions() gsessions.Options {
	return gsessions.Options{
		Path:     "/",
		MaxAge:   int(IdleTimeout.Seconds()),
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// GorillaRedis is github.com/gorilla/sessions on a go-redis v9 store (see
// package gorillaredis), with its keys under prefix.
func GorillaRedis(c redis.UniversalClient, prefix string) *Lib {
	return gorillaLib(gorillaredis.New(c, prefix, gorillaOptions()), "redis", true)
}

// GorillaCookie is github.com/gorilla/sessions on its CookieStore, signed
// (HMAC-SHA256) and encrypted (AES-256): the session lives in the cookie,
// client-side. gorilla/sessions has no server-side memory store; this is
// its store that needs no server.
func GorillaCookie() *Lib {
	hashKey, blockKey := make([]byte, 32), make([]byte, 32)
	rand.Read(hashKey)
	rand.Read(blockKey)
	st := gsessions.NewCookieStore(hashKey, blockKey)
	opts := gorillaOptions()
	st.Options = &opts
	st.MaxAge(opts.MaxAge)
	// A client-side session cannot be revoked: its Renew would only
	// re-encrypt the same values, so it is left out.
	return gorillaLib(st, "cookie", false)
}

func gorillaLib(st gsessions.Store, store string, renew bool) *Lib {
	get := func(w http.ResponseWriter, r *http.Request) (*gsessions.Session, bool) {
		s, err := st.Get(r, CookieName)
		if err != nil {
			fail(w, err)
			return nil, false
		}
		return s, true
	}
	save := func(w http.ResponseWriter, r *http.Request, s *gsessions.Session) bool {
		if err := s.Save(r, w); err != nil {
			fail(w, err)
			return false
		}
		return true
	}
	set := func(w http.ResponseWriter, r *http.Request, kv ...any) {
		s, good := get(w, r)
		if !good {
			return
		}
		for i := 0; i < len(kv); i += 2 {
			s.Values[kv[i]] = kv[i+1]
		}
		if save(w, r, s) {
			ok(w)
		}
	}
	hs := map[Op]http.HandlerFunc{
		Untouched: func(w http.ResponseWriter, r *http.Request) { ok(w) },
		Read: func(w http.ResponseWriter, r *http.Request) {
			if s, good := get(w, r); good {
				user, _ := s.Values["user"].(string)
				io.WriteString(w, user)
			}
		},
		Write: func(w http.ResponseWriter, r *http.Request) {
			set(w, r, "n", NextValue())
		},
		ReadWrite: func(w http.ResponseWriter, r *http.Request) {
			s, good := get(w, r)
			if !good {
				return
			}
			n, _ := s.Values["n"].(int)
			s.Values["n"] = n + 1
			if save(w, r, s) {
				ok(w)
			}
		},
		New: func(w http.ResponseWriter, r *http.Request) {
			set(w, r, "user", "alice")
		},
		Destroy: func(w http.ResponseWriter, r *http.Request) {
			s, good := get(w, r)
			if !good {
				return
			}
			s.Options.MaxAge = -1
			if save(w, r, s) {
				ok(w)
			}
		},
		Seed: func(w http.ResponseWriter, r *http.Request) {
			set(w, r, "user", "alice", "role", "admin", "n", 1)
		},
		SetKV: func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			set(w, r, q.Get("k"), q.Get("v"))
		},
		Dump: func(w http.ResponseWriter, r *http.Request) {
			s, good := get(w, r)
			if !good {
				return
			}
			keys := make([]string, 0, len(s.Values))
			vals := make(map[string]any, len(s.Values))
			for k, v := range s.Values {
				ks := fmt.Sprint(k)
				keys = append(keys, ks)
				vals[ks] = v
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "%s=%v\n", k, vals[k])
			}
		},
	}
	if renew {
		// gorilla/sessions has no Renew: delete the old session (which
		// also sends a deleting cookie) and save its values under a
		// fresh ID.
		hs[Renew] = func(w http.ResponseWriter, r *http.Request) {
			s, good := get(w, r)
			if !good {
				return
			}
			s.Options.MaxAge = -1
			if !save(w, r, s) {
				return
			}
			ns := gsessions.NewSession(st, CookieName)
			opts := gorillaOptions()
			ns.Options = &opts
			ns.IsNew = true
			ns.Values = s.Values
			if save(w, r, ns) {
				ok(w)
			}
		}
	}
	l := &Lib{Name: "gorilla", Store: store, handlers: make(map[Op]http.Handler)}
	for op, h := range hs {
		l.handlers[op] = h
	}
	return l
}
