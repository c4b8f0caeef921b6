package sessions

import "encoding/json"

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
	if b, ok := encodeFast(v); ok {
		return b, nil
	}
	return json.Marshal(v)
}

// Decode parses the JSON data into v.
func (JSONCodec) Decode(data []byte, v any) error {
	if ok, err := decodeFast(data, v); ok {
		return err
	}
	return json.Unmarshal(data, v)
}
