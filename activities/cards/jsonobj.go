package cards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// field binds one JSON key to a Go field. One table per object drives both decoding and
// encoding, so the two cannot drift apart.
type field struct {
	key string
	ptr any // pointer to the Go field
	// required fields are always written (an empty list as [], an empty map as {});
	// optional ones only when set. Empty required lists and maps decode to nil, so
	// "absent" and "empty" compare equal after a round trip.
	required bool
}

// object is a JSON object being taken apart key by key.
type object map[string]json.RawMessage

func decodeObject(b []byte) (object, error) {
	if t := firstByte(b); t != '{' {
		return nil, fmt.Errorf("expected a JSON object")
	}
	var o object
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, err
	}
	if o == nil {
		o = object{}
	}
	return o, nil
}

// take decodes every field present in o and removes it from o. A null counts as absent.
// A value of the wrong type stays in o, so it ends up in Unknown and goes back out as
// written.
func (o object) take(fields []field) {
	for _, f := range fields {
		raw, ok := o[f.key]
		if !ok {
			continue
		}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			delete(o, f.key)
			continue
		}
		dst := reflect.ValueOf(f.ptr).Elem()
		v := reflect.New(dst.Type())
		if err := json.Unmarshal(raw, v.Interface()); err != nil {
			continue
		}
		delete(o, f.key)
		val := v.Elem()
		if (val.Kind() == reflect.Slice || val.Kind() == reflect.Map) && val.Len() == 0 && f.required {
			continue
		}
		if m, ok := val.Interface().(map[string]json.RawMessage); ok {
			compactMap(m)
		}
		if r, ok := val.Interface().(json.RawMessage); ok {
			val = reflect.ValueOf(compactRaw(r))
		}
		dst.Set(val)
	}
}

// rest returns what take left behind, compacted, or nil.
func (o object) rest() map[string]json.RawMessage {
	if len(o) == 0 {
		return nil
	}
	m := map[string]json.RawMessage(o)
	compactMap(m)
	return m
}

func compactMap(m map[string]json.RawMessage) {
	for k, v := range m {
		m[k] = compactRaw(v)
	}
}

// compactRaw is how raw JSON is kept: compact, and with the escapes json.Marshal adds
// (\u003c, \u003e, \u0026, \u2028, \u2029) written as the characters they stand for. pgx
// stores JSONB through json.Marshal, so without this a card read back from the database
// would differ byte for byte from the card that went in.
func compactRaw(r json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, r); err != nil {
		return r
	}
	c := b.Bytes()
	if !bytes.Contains(c, []byte(`\u`)) {
		return json.RawMessage(c)
	}
	out := make([]byte, 0, len(c))
	for i := 0; i < len(c); i++ {
		if c[i] != '\\' || i+1 >= len(c) {
			out = append(out, c[i])
			continue
		}
		if i+5 < len(c) && c[i+1] == 'u' {
			if ch, ok := marshalEscapes[strings.ToLower(string(c[i+2:i+6]))]; ok {
				out = append(out, ch...)
				i += 5
				continue
			}
		}
		out = append(out, c[i], c[i+1]) // any other escape, including \\, stays as it is
		i++
	}
	return json.RawMessage(out)
}

// marshalEscapes are the escapes encoding/json writes that a JSON writer need not.
var marshalEscapes = map[string]string{"003c": "<", "003e": ">", "0026": "&", "2028": "\u2028", "2029": "\u2029"}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// objWriter writes a JSON object with keys in a fixed order and without HTML escaping
// (cards are full of <START> and <USER>; \u003c would be correct but unreadable).
type objWriter struct {
	buf  bytes.Buffer
	seen map[string]bool
	err  error
}

func newObjWriter() *objWriter {
	w := &objWriter{seen: map[string]bool{}}
	w.buf.WriteByte('{')
	return w
}

func (w *objWriter) raw(key string, raw json.RawMessage) {
	if w.err != nil || w.seen[key] {
		return
	}
	if !json.Valid(raw) {
		w.err = fmt.Errorf("the value of %q is not valid JSON", key)
		return
	}
	if len(w.seen) > 0 {
		w.buf.WriteByte(',')
	}
	w.seen[key] = true
	k, _ := marshal(key)
	w.buf.Write(k)
	w.buf.WriteByte(':')
	w.buf.Write(raw)
}

func (w *objWriter) value(key string, v any) {
	if w.err != nil {
		return
	}
	if m, ok := v.(map[string]json.RawMessage); ok {
		for k, raw := range m {
			if !json.Valid(raw) {
				w.err = fmt.Errorf("%s: the value of %q is not valid JSON", key, k)
				return
			}
		}
	}
	b, err := marshal(v)
	if err != nil {
		w.err = fmt.Errorf("%s: %w", key, err)
		return
	}
	w.raw(key, b)
}

// fields writes the table in order. A field whose Go value is empty but whose key sits
// in unknown (a value of the wrong type, kept raw) is written from unknown.
func (w *objWriter) fields(fields []field, unknown map[string]json.RawMessage) {
	for _, f := range fields {
		val := reflect.ValueOf(f.ptr).Elem()
		zero := val.IsZero()
		if raw, ok := unknown[f.key]; ok && zero {
			w.raw(f.key, raw)
			continue
		}
		switch {
		case !zero:
			w.value(f.key, val.Interface())
		case f.required && val.Kind() == reflect.Slice:
			w.raw(f.key, json.RawMessage("[]"))
		case f.required && val.Kind() == reflect.Map:
			w.raw(f.key, json.RawMessage("{}"))
		case f.required:
			w.value(f.key, val.Interface())
		}
	}
}

// unknown writes the keys no table claimed, sorted so that exports are reproducible.
func (w *objWriter) unknown(m map[string]json.RawMessage, skip ...string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if w.seen[k] || contains(skip, k) {
			continue
		}
		w.raw(k, m[k])
	}
}

func (w *objWriter) bytes() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	w.buf.WriteByte('}')
	return w.buf.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
