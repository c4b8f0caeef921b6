package sessions_test

import (
	"testing"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sessionstest"
)

// TestGuarantees runs the HTTP-level guarantee suite against every store
// the package ships and the blob store written against the plain contract.
func TestGuarantees(t *testing.T) {
	for _, sf := range sessions.AllTestStores() {
		t.Run(sf.Name, func(t *testing.T) {
			sessionstest.RunHTTP(t, sf.New)
		})
	}
}

// TestBlobStoreConformance: the blob store the guarantee tests use keeps
// the Store contract.
func TestBlobStoreConformance(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		return sessions.AllTestStores()[1].New(t)
	})
}
