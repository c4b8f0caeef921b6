package sessionstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessions"
)

// downStore is a Store whose every Read fails with err.
type downStore struct {
	sessions.Store
	err error
}

func (s downStore) Read(context.Context, string) (sessions.Record, error) { return nil, s.err }

// lockedBuffer is a bytes.Buffer safe for the handlers' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestHTTPSuiteKeepsLogsOffTheDefaultLogger: a failing store's errors,
// which the Manager logs on every request, do not reach slog.Default,
// which `go test` prints for passing tests too.
func TestHTTPSuiteKeepsLogsOffTheDefaultLogger(t *testing.T) {
	var out lockedBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	mem := sessions.NewMemoryStore()
	t.Cleanup(func() { mem.Close() })
	marker := "store down " + newSessionID(t)[:12]
	h := newHTTPSuite(t, downStore{Store: mem, err: errors.New(marker)}, config{wait: time.Sleep, rounds: 1})
	if r := h.send("/whoami", newSessionID(t), ""); r.status != http.StatusInternalServerError {
		t.Fatalf("a request whose read failed: status %d, want 500", r.status)
	}
	if strings.Contains(out.String(), marker) {
		t.Fatalf("the Manager's log reached slog.Default:\n%s", out.String())
	}
}

// newSessionID returns a well-formed session ID: 32 random bytes in
// unpadded base64url.
func newSessionID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// logRecorder is a testing.TB that keeps what is logged and the cleanups
// registered, and supports nothing else.
type logRecorder struct {
	testing.TB
	lines    []string
	cleanups []func()
}

func (r *logRecorder) Log(args ...any)  { r.lines = append(r.lines, fmt.Sprint(args...)) }
func (r *logRecorder) Helper()          {}
func (r *logRecorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// TestTestLoggerWritesToTheTest: each record is one t.Log line, with its
// attributes, and nothing is logged once the test has ended, when t.Log
// would panic.
func TestTestLoggerWritesToTheTest(t *testing.T) {
	rec := &logRecorder{}
	l := testLogger(rec).With("store", "down")
	l.Debug("session not found", "session", "abc")
	l.Error("store failed", "error", errors.New("connection refused"))
	want := []string{
		`level=DEBUG msg="session not found" store=down session=abc`,
		`level=ERROR msg="store failed" store=down error="connection refused"`,
	}
	if !slices.Equal(rec.lines, want) {
		t.Fatalf("logged %q, want %q", rec.lines, want)
	}
	for _, f := range rec.cleanups {
		f()
	}
	l.Error("after the test")
	if len(rec.lines) != len(want) {
		t.Fatalf("logged %q after the test ended", rec.lines[len(want):])
	}
}
