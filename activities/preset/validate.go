package preset

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError is a parameter a user got wrong, worded for them: Discord shows Error() as
// the ephemeral answer to the command.
type FieldError struct {
	Field   string // the field name as given
	Value   string // the rejected value, quoted if text; "" when nothing was given
	Allowed string // what the field accepts ("between 0 and 2")
	// Unknown is set when Field names no field; Allowed then lists the valid names and
	// Suggestion holds the closest one, if any is close.
	Unknown    bool
	Suggestion string
}

// Error reads like "temperature must be between 0 and 2 (got 3.5)".
func (e *FieldError) Error() string {
	if e.Unknown {
		s := fmt.Sprintf("unknown parameter %q", e.Field)
		if e.Suggestion != "" {
			s += fmt.Sprintf(" (did you mean %s?)", e.Suggestion)
		}
		return s + "; valid parameters: " + e.Allowed
	}
	if e.Value == "" {
		return fmt.Sprintf("%s must be %s", e.Field, e.Allowed)
	}
	return fmt.Sprintf("%s must be %s (got %s)", e.Field, e.Allowed, e.Value)
}

// Validate checks every value against its field: unknown names first (in name order),
// then fields in table order; the first problem is returned as a *FieldError. Nil values
// (explicit nulls) are valid. Validate does not require Required fields: a single layer
// may leave them to another; Apply checks them after Merge.
func Validate(v Values) error {
	_, err := Normalize(v)
	return err
}

// Normalize validates v and returns a copy holding every value in its kind's canonical Go
// type (JSON's float64 and []any become int and []string), keeping nils. Apply, Behaviour
// and Display accept either form; Normalize is for storing and comparing.
func Normalize(v Values) (Values, error) {
	if err := unknownNames(v); err != nil {
		return nil, err
	}
	out := make(Values, len(v))
	for _, f := range Fields {
		raw, ok := v[f.Name]
		if !ok {
			continue
		}
		if raw == nil {
			out[f.Name] = nil
			continue
		}
		c, err := f.coerce(raw)
		if err != nil {
			return nil, err
		}
		out[f.Name] = c
	}
	return out, nil
}

func unknownNames(v Values) error {
	var unknown []string
	for k := range v {
		if _, ok := fieldIndex[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return unknownField(unknown[0])
}

func unknownField(name string) *FieldError {
	return &FieldError{
		Field: name, Unknown: true, Suggestion: closest(name),
		Allowed: strings.Join(Names(), ", "),
	}
}

// Allowed says in words what the field accepts, for help text and errors.
func (f Field) Allowed() string {
	switch f.Kind {
	case Float:
		return "a number " + f.rangeText()
	case Int:
		return "a whole number " + f.rangeText()
	case String:
		return fmt.Sprintf("a name without spaces of at most %d characters", f.MaxLen)
	case StringList:
		return fmt.Sprintf("1 to %d texts of at most %d characters each", f.MaxItems, f.MaxLen)
	case Enum:
		return "one of " + strings.Join(f.Enum, ", ")
	case Bool:
		return "true or false"
	}
	return "valid"
}

func (f Field) rangeText() string {
	return "between " + formatNumber(f.Min) + " and " + formatNumber(f.Max)
}

func formatNumber(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// coerce returns raw in the field's canonical type, or why it cannot be.
func (f Field) coerce(raw any) (any, *FieldError) {
	wrong := &FieldError{Field: f.Name, Value: describe(raw), Allowed: f.Allowed()}
	switch f.Kind {
	case Float:
		x, ok := toFloat(raw)
		if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, wrong
		}
		return x, f.checkRange(x)
	case Int:
		n, ok := toInt(raw)
		if !ok {
			return nil, wrong
		}
		return n, f.checkRange(float64(n))
	case String:
		s, ok := raw.(string)
		if !ok || !f.validText(s) || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
			return nil, wrong
		}
		return s, nil
	case StringList:
		return f.coerceList(raw, wrong)
	case Enum:
		s, ok := raw.(string)
		if !ok || !slices.Contains(f.Enum, s) {
			return nil, wrong
		}
		return s, nil
	case Bool:
		b, ok := raw.(bool)
		if !ok {
			return nil, wrong
		}
		return b, nil
	}
	return nil, wrong
}

func (f Field) checkRange(x float64) *FieldError {
	if x < f.Min || x > f.Max {
		return &FieldError{Field: f.Name, Value: describe(x), Allowed: f.rangeText()}
	}
	return nil
}

func (f Field) coerceList(raw any, wrong *FieldError) (any, *FieldError) {
	var items []string
	switch l := raw.(type) {
	case []string:
		items = append([]string{}, l...)
	case []any:
		for _, x := range l {
			s, ok := x.(string)
			if !ok {
				return nil, wrong
			}
			items = append(items, s)
		}
	default:
		return nil, wrong
	}
	if len(items) == 0 || len(items) > f.MaxItems {
		return nil, &FieldError{Field: f.Name, Value: fmt.Sprintf("%d texts", len(items)), Allowed: f.Allowed()}
	}
	for _, s := range items {
		if !f.validText(s) {
			return nil, &FieldError{Field: f.Name, Value: describe(s), Allowed: f.Allowed()}
		}
	}
	return items, nil
}

// validText: non-empty, valid UTF-8, no control characters except newline and tab (stop
// sequences are often "\n\nUser:"), and no longer than MaxLen characters.
func (f Field) validText(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > f.MaxLen {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) < 0
}

func toFloat(raw any) (float64, bool) {
	switch x := raw.(type) {
	case float64:
		return x, true
	case float32:
		// Via the shortest decimal, so float32(0.7) is 0.7 and not 0.699999988.
		f, err := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

// toInt accepts integers and integral floats (JSON decodes every number as float64)
// within the range a float64 holds exactly.
func toInt(raw any) (int, bool) {
	switch x := raw.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case int32:
		return int(x), true
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return int(n), true
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, false
		}
		return toInt(f)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > maxSafeInt {
			return 0, false
		}
		return int(x), true
	case float32:
		return toInt(float64(x))
	}
	return 0, false
}

// maxShown keeps an echoed value short enough for an ephemeral Discord message.
const maxShown = 60

// describe renders a rejected value for an error message.
func describe(raw any) string {
	var s string
	switch x := raw.(type) {
	case string:
		if utf8.RuneCountInString(x) > maxShown {
			x = string([]rune(x)[:maxShown]) + "…"
		}
		return strconv.Quote(x)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		s = string(x)
	case []string, []any:
		b, _ := json.Marshal(x)
		s = string(b)
	default:
		s = fmt.Sprint(x)
	}
	if utf8.RuneCountInString(s) > maxShown {
		s = string([]rune(s)[:maxShown]) + "…"
	}
	return s
}

// closest is the field name nearest to name, if any is near enough to be a typo or an
// abbreviation ("temp", "top-p", "maxtokens").
func closest(name string) string {
	n := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(name)))
	if n == "" || len(n) > 64 {
		return ""
	}
	best, bestDist := "", math.MaxInt
	for _, f := range Fields {
		d := distance(n, f.Name)
		if len(n) >= 3 && strings.HasPrefix(f.Name, n) {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = f.Name, d
		}
	}
	if bestDist > max(2, len(best)/3) {
		return ""
	}
	return best
}

// distance is the Levenshtein distance over bytes (names are ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
