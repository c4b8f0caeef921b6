package sessions

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestJSONCodecRoundTrip(t *testing.T) {
	when := time.Date(2026, 11, 21, 10, 0, 0, 123, time.UTC)
	values := []any{"plain", "needs \"escaping\" <&>\n", "ünïcode", 0, -7, int64(1) << 62, true, false, 1.25, when, []byte{0, 255}, map[string]int{"a": 1}}
	var c JSONCodec
	for _, v := range values {
		b, err := c.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		if !bytes.Equal(b, want) {
			t.Errorf("Encode(%#v) = %s, encoding/json gives %s", v, b, want)
		}
	}
	var s string
	if err := c.Decode([]byte(`"a\"b"`), &s); err != nil || s != `a"b` {
		t.Errorf("Decode escaped string = %q, %v", s, err)
	}
	var tm time.Time
	b, _ := c.Encode(when)
	if err := c.Decode(b, &tm); err != nil || !tm.Equal(when) {
		t.Errorf("time round trip %v, %v", tm, err)
	}
}

// FuzzJSONCodecDecode: the codec's fast paths agree with encoding/json on
// every input, for every type they cover.
func FuzzJSONCodecDecode(f *testing.F) {
	for _, s := range []string{`"x"`, `"a\u0041"`, `12`, `-0`, `1e3`, `true`, `null`, `"`, `""`, `9223372036854775808`, ` 1`, `00`, `+1`, `-`, `01`} {
		f.Add([]byte(s))
	}
	var c JSONCodec
	f.Fuzz(func(t *testing.T, data []byte) {
		var s1, s2 string
		e1, e2 := c.Decode(data, &s1), json.Unmarshal(data, &s2)
		if (e1 == nil) != (e2 == nil) || s1 != s2 {
			t.Fatalf("string %q: codec %q %v, encoding/json %q %v", data, s1, e1, s2, e2)
		}
		var i1, i2 int64
		e1, e2 = c.Decode(data, &i1), json.Unmarshal(data, &i2)
		if (e1 == nil) != (e2 == nil) || i1 != i2 {
			t.Fatalf("int64 %q: codec %d %v, encoding/json %d %v", data, i1, e1, i2, e2)
		}
		var b1, b2 bool
		e1, e2 = c.Decode(data, &b1), json.Unmarshal(data, &b2)
		if (e1 == nil) != (e2 == nil) || b1 != b2 {
			t.Fatalf("bool %q: codec %v %v, encoding/json %v %v", data, b1, e1, b2, e2)
		}
	})
}

// FuzzJSONCodecEncodeString: the string fast path writes what encoding/json
// writes.
func FuzzJSONCodecEncodeString(f *testing.F) {
	f.Add("hello")
	f.Add("<script>")
	f.Add("\u2028")
	var c JSONCodec
	f.Fuzz(func(t *testing.T, s string) {
		got, _ := c.Encode(s)
		want, _ := json.Marshal(s)
		if !bytes.Equal(got, want) {
			t.Fatalf("Encode(%q) = %s, encoding/json gives %s", s, got, want)
		}
	})
}

// BenchmarkJSONCodec compares the codec's fast paths with encoding/json on
// the values sessions hold most; codec_fast.go is kept for this gain.
func BenchmarkJSONCodec(b *testing.B) {
	values := []struct {
		name string
		v    any
		dst  func() any
	}{
		{"string", "q3ZbYj2bD5kU0y7mX1wNfA", func() any { return new(string) }},
		{"int", 1234567, func() any { return new(int) }},
		{"bool", true, func() any { return new(bool) }},
	}
	codecs := []struct {
		name string
		enc  func(any) ([]byte, error)
		dec  func([]byte, any) error
	}{
		{"fast", JSONCodec{}.Encode, JSONCodec{}.Decode},
		{"encoding-json", json.Marshal, json.Unmarshal},
	}
	for _, v := range values {
		for _, c := range codecs {
			b.Run(v.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				dst := v.dst()
				for i := 0; i < b.N; i++ {
					data, err := c.enc(v.v)
					if err != nil {
						b.Fatal(err)
					}
					if err := c.dec(data, dst); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
