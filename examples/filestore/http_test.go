package filestore

import (
	"testing"

	"github.com/sessionkit/sessions"
	"github.com/sessionkit/sessions/sessionstest"
)

// TestGuarantees runs the guarantees over real HTTP on the file store. Every
// Write fsyncs a file and its directory, so the unsynchronised rounds are
// cut to a tenth.
func TestGuarantees(t *testing.T) {
	sessionstest.RunHTTP(t, func(t *testing.T) sessions.Store { return newTestStore(t) }, sessionstest.Rounds(0.1))
}
