package sessions

import (
	"strconv"
	"time"
)

// The JSON codec's fast paths: strings without escapes, ints and bools, the
// values sessions hold most, encoded and decoded without reflection, byte for
// byte as encoding/json does. BenchmarkJSONCodec measures them against
// encoding/json (several times faster, with fewer allocations); anything
// else goes to encoding/json.

// encodeFast encodes v if it has a fast path, and reports whether it did.
func encodeFast(v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		if plainJSONString(x) {
			b := make([]byte, 0, len(x)+2)
			b = append(b, '"')
			b = append(b, x...)
			return append(b, '"'), true
		}
	case int:
		return strconv.AppendInt(nil, int64(x), 10), true
	case int64:
		return strconv.AppendInt(nil, x, 10), true
	case bool:
		return strconv.AppendBool(nil, x), true
	}
	return nil, false
}

// decodeFast decodes data into v if it has a fast path, and reports whether
// it did, with the decoding's error.
func decodeFast(data []byte, v any) (bool, error) {
	switch p := v.(type) {
	case *string:
		if n := len(data); n >= 2 && data[0] == '"' && data[n-1] == '"' && plainJSONString(string(data[1:n-1])) {
			*p = string(data[1 : n-1])
			return true, nil
		}
	case *int:
		if !plainJSONInt(data) {
			break
		}
		if i, err := strconv.ParseInt(string(data), 10, strconv.IntSize); err == nil {
			*p = int(i)
			return true, nil
		}
	case *int64:
		if !plainJSONInt(data) {
			break
		}
		if i, err := strconv.ParseInt(string(data), 10, 64); err == nil {
			*p = i
			return true, nil
		}
	case *bool:
		switch string(data) {
		case "true", "false":
			*p = data[0] == 't'
			return true, nil
		}
	case *time.Time:
		return true, p.UnmarshalJSON(data)
	}
	return false, nil
}

// plainJSONString reports whether s can be written between double quotes as
// JSON without any escaping, exactly as encoding/json would write it.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// plainJSONInt reports whether b is a JSON integer as encoding/json writes
// it: an optional minus sign, then 0 or digits without a leading zero.
func plainJSONInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
