package sessions_test

import (
	"testing"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sessionstest"
)

// TestGuarantees runs the HTTP-level guarantee suite against the memory
// store and the blob store written against the plain contract.
func TestGuarantees(t *testing.T) {
	for _, sf := range sessions.AllTestStores() {
		t.Run(sf.Name, func(t *testing.T) {
			sessionstest.RunHTTP(t, sf.New)
		})
	}
}

// TestGuaranteesWithHeader runs the guarantee suite with the ID in a request
// header (G13): as a Bearer credential and in a header of its own.
func TestGuaranteesWithHeader(t *testing.T) {
	for _, sf := range sessions.AllTestStores() {
		for _, header := range []string{"Authorization", "X-Session"} {
			t.Run(sf.Name+"/"+header, func(t *testing.T) {
				sessionstest.RunHTTP(t, sf.New, sessionstest.Header(header), sessionstest.Rounds(0.25))
			})
		}
	}
}

// TestBlobStoreConformance: the blob store the guarantee tests use keeps
// the Store contract.
func TestBlobStoreConformance(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return sessions.AllTestStores()[1].New(t)
	})
}
