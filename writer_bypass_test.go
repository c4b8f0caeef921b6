package sessions

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// trackingWriter is a framework's writer that knows whether it has written,
// as gin's does.
type trackingWriter struct {
	http.ResponseWriter
	written bool
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.ResponseWriter.Write(b)
}

func (w *trackingWriter) Written() bool { return w.written }

// An adapter that passes the session's request on but keeps its own writer
// loses the cookie; the Manager says so, once.
func TestResponseWrittenPastTheMiddleware(t *testing.T) {
	var logs bytes.Buffer
	m := New(newTestMemoryStore(t), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	for range 2 {
		fw := &trackingWriter{ResponseWriter: httptest.NewRecorder()}
		m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			Get(r).Set("k", 1)
			fw.Write([]byte("page")) // past the session's writer
		})).ServeHTTP(fw, httptest.NewRequest("GET", "/", nil))
	}
	if n := strings.Count(logs.String(), "a session cookie was lost"); n != 1 {
		t.Fatalf("got %d warnings, want 1:\n%s", n, logs.String())
	}
}
