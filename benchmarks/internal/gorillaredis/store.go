// Package gorillaredis is a gorilla/sessions Store on a go-redis v9 client.
//
// It issues the same Redis commands as github.com/rbcervilla/redisstore/v9,
// the usual go-redis store for gorilla/sessions: one GET when a session is
// loaded, one SET with an expiry of Options.MaxAge when it is saved, one DEL
// when it is saved with MaxAge <= 0. Values are gob-encoded as one blob, and
// the ID is 64 random bytes in unpadded base32, as there.
package gorillaredis

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"
)

// Store keeps gorilla sessions in Redis.
type Store struct {
	client  redis.UniversalClient
	prefix  string
	options sessions.Options
}

// New returns a Store that keeps sessions under prefix, with opts as the
// options of every new session.
func New(client redis.UniversalClient, prefix string, opts sessions.Options) *Store {
	return &Store{client: client, prefix: prefix, options: opts}
}

// Get returns the session called name, from the request's registry.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session called name from the request's cookie, or returns a
// new one.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	sess.ID = c.Value
	b, err := s.client.Get(r.Context(), s.prefix+c.Value).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return sess, nil
	case err != nil:
		return sess, err
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&sess.Values); err != nil {
		return sess, err
	}
	sess.IsNew = false
	return sess, nil
}

// Save stores the session and sets its cookie; with MaxAge <= 0 it deletes
// the session and the cookie.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge <= 0 {
		if sess.ID != "" {
			if err := s.client.Del(ctx, s.prefix+sess.ID).Err(); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	if sess.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		sess.ID = id
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(sess.Values); err != nil {
		return err
	}
	ttl := time.Duration(sess.Options.MaxAge) * time.Second
	if err := s.client.Set(ctx, s.prefix+sess.ID, buf.Bytes(), ttl).Err(); err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), sess.ID, sess.Options))
	return nil
}

func newID() (string, error) {
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("gorillaredis: new ID: %w", err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}
