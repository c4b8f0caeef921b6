package sessions

import (
	"encoding/json"
	"strconv"
	"time"
)

// Codec encodes session values one by one. Each value is stored under its
// own key, so a Codec sees one value at a time, never the whole session.
type Codec interface {
	// Encode returns the stored form of v.
	Encode(v any) ([]byte, error)
	// Decode parses data into the value pointed to by v.
	Decode(data []byte, v any) error
}

// JSONCodec is the default Codec: values are stored as JSON, readable with
// redis-cli. Decoding into an interface value follows encoding/json: numbers
// come back as float64 and objects as map[string]any; use a typed getter or
// Session.Decode to get a value back in its own type.
type JSONCodec struct{}

// Encode returns the JSON encoding of v.
func (JSONCodec) Encode(v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		if plainJSONString(x) {
			b := make([]byte, 0, len(x)+2)
			b = append(b, '"')
			b = append(b, x...)
			return append(b, '"'), nil
		}
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case bool:
		return strconv.AppendBool(nil, x), nil
	}
	return json.Marshal(v)
}

// Decode parses the JSON data into v.
func (JSONCodec) Decode(data []byte, v any) error {
	switch p := v.(type) {
	case *string:
		if n := len(data); n >= 2 && data[0] == '"' && data[n-1] == '"' && plainJSONString(string(data[1:n-1])) {
			*p = string(data[1 : n-1])
			return nil
		}
	case *int:
		if !plainJSONInt(data) {
			break
		}
		if i, err := strconv.ParseInt(string(data), 10, strconv.IntSize); err == nil {
			*p = int(i)
			return nil
		}
	case *int64:
		if !plainJSONInt(data) {
			break
		}
		if i, err := strconv.ParseInt(string(data), 10, 64); err == nil {
			*p = i
			return nil
		}
	case *bool:
		switch string(data) {
		case "true":
			*p = true
			return nil
		case "false":
			*p = false
			return nil
		}
	case *time.Time:
		return p.UnmarshalJSON(data)
	}
	return json.Unmarshal(data, v)
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
