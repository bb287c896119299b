package shapes

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// object is a JSON object read leniently: a value of an unexpected type becomes a
// warning, never a failure, because configs grew keys and changed types over the years.
type object map[string]json.RawMessage

func decodeObject(b []byte) (object, bool) {
	var o object
	if json.Unmarshal(b, &o) != nil || o == nil {
		return nil, false
	}
	return o, true
}

// warnings collects what the user should hear about.
type warnings struct{ list []string }

func (w *warnings) add(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, m := range w.list {
		if m == msg {
			return
		}
	}
	w.list = append(w.list, msg)
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// text reads a string; numbers and booleans are written as text, since a field such as
// personality_age was sometimes saved as 25.
func (o object) text(key string, w *warnings) string {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b)
	}
	w.add("%s is not text; it was left out", key)
	return ""
}

// number reads a number, or a string holding one.
func (o object) number(key string, w *warnings) (float64, bool) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return 0, false
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if f, err := n.Float64(); err == nil {
			return f, true
		}
	}
	w.add("%s is not a number (%.40s); it was left out", key, raw)
	return 0, false
}

func (o object) numberPtr(key string, w *warnings) *float64 {
	if f, ok := o.number(key, w); ok {
		return &f
	}
	return nil
}

func (o object) boolean(key string, w *warnings) (bool, bool) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return false, false
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	w.add("%s is not true or false; it was left out", key)
	return false, false
}

// texts reads a list of strings; one string counts as a list of one.
func (o object) texts(key string, w *warnings) []string {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil
		}
		return []string{one}
	}
	var mixed []any
	if json.Unmarshal(raw, &mixed) == nil {
		for _, v := range mixed {
			if v != nil {
				list = append(list, fmt.Sprint(v))
			}
		}
		return list
	}
	w.add("%s is not a list; it was left out", key)
	return nil
}

func (o object) object(key string) object {
	if raw, ok := o[key]; ok {
		if sub, ok := decodeObject(raw); ok {
			return sub
		}
	}
	return object{}
}

// timeValue reads a timestamp the way backups wrote them: Unix seconds with a fraction
// (1721971316.572563), milliseconds, or text (a number, RFC 3339, an ISO date and time
// without a zone, "MM/DD/YYYY", "YYYY-MM-DD"). ok is false when there is none.
func (o object) timeValue(key string) (t time.Time, ok bool, bad bool) {
	raw, present := o[key]
	if !present || isNull(raw) {
		return time.Time{}, false, false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = strings.TrimSpace(string(raw))
	}
	t, ok = parseTime(strings.TrimSpace(s))
	return t, ok, !ok
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, ok := unixTime(s); ok {
		return t, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "01/02/2006", "1/2/2006", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// unixTime parses decimal seconds exactly (no float rounding of the fraction); values
// past the year 5138 in seconds are taken as milliseconds.
func unixTime(s string) (time.Time, bool) {
	if strings.ContainsAny(s, "eE") { // exponent notation: float precision is all it has
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 1e11 {
			return time.Time{}, false
		}
		return time.Unix(0, int64(f*1e9)).UTC(), true
	}
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, false
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var nanos int64
	if frac != "" {
		n, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		nanos = n
	}
	if sec > 1e11 {
		return time.UnixMilli(sec).Add(time.Duration(nanos / 1e3)).UTC(), true
	}
	return time.Unix(sec, nanos).UTC(), true
}
