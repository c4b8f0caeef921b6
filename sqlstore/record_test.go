package sqlstore

import (
	"errors"
	"testing"

	"github.com/sessionkit/sessions"
)

// TestDecodeRecordRefuses checks that data the encoder never writes, and
// that the stores' SQL checks refuse, is corrupt for Read too: a null
// member (which json.Unmarshal would read as "") and a line break in base64
// (which Go's decoder would skip).
func TestDecodeRecordRefuses(t *testing.T) {
	for _, data := range []string{`{"a": null}`, `{"a": "1", "b": null}`, `{"a": "~YQ==\n"}`, `{"~YQ\r\n==": "1"}`} {
		if rec, err := DecodeRecord([]byte(data)); !errors.Is(err, sessions.ErrCorrupt) {
			t.Errorf("DecodeRecord(%s) gave (%q, %v), want ErrCorrupt", data, rec, err)
		}
	}
	rec, err := DecodeRecord([]byte(`{"a": "", "b": "~", "c": "~YQ=="}`))
	if err != nil || string(rec["a"]) != "" || string(rec["b"]) != "" || string(rec["c"]) != "a" {
		t.Errorf("DecodeRecord of empty values and base64 gave (%q, %v)", rec, err)
	}
}
