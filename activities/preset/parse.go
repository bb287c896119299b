package preset

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Parse turns what a user typed for the field called name into its canonical value,
// checked as Validate checks it: "0.7" for temperature is 0.7, "a, b" for stop is
// []string{"a", "b"}, "High" for reasoning_effort is "high". Lists are comma-separated
// with \n, \t and \\ escapes, or a JSON array when an item needs a comma or spaces at
// its ends. Every error is a *FieldError. Clearing a field is not parsing: store nil.
func Parse(name, text string) (any, error) {
	f, ok := Lookup(name)
	if !ok {
		return nil, unknownField(name)
	}
	v, err := f.parse(text)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (f Field) parse(text string) (any, *FieldError) {
	t := strings.TrimSpace(text)
	wrong := &FieldError{Field: f.Name, Value: describe(text), Allowed: f.Allowed()}
	if t == "" {
		wrong.Value = ""
		return nil, wrong
	}
	switch f.Kind {
	case Float:
		x, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, wrong
		}
		return f.coerce(x)
	case Int:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, wrong
		}
		return f.coerce(n)
	case String:
		return f.coerce(t)
	case StringList:
		items, ok := splitList(t)
		if !ok {
			return nil, wrong
		}
		return f.coerce(items)
	case Enum:
		return f.coerce(strings.ToLower(t))
	case Bool:
		switch strings.ToLower(t) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
	}
	return nil, wrong
}

var unescape = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t")

// splitList reads "a, b" or ["a", " b"]. Empty items of the comma form are dropped.
func splitList(t string) ([]string, bool) {
	if strings.HasPrefix(t, "[") {
		var items []string
		if err := json.Unmarshal([]byte(t), &items); err != nil {
			return nil, false
		}
		return items, true
	}
	var items []string
	for _, part := range strings.Split(t, ",") {
		if s := unescape.Replace(strings.TrimSpace(part)); s != "" {
			items = append(items, s)
		}
	}
	return items, true
}

// Format renders a value the way Parse reads it back, for /preset view and
// confirmations; nil is "".
func Format(name string, v any) string {
	if v == nil {
		return ""
	}
	f, ok := Lookup(name)
	if !ok {
		return fmt.Sprint(v)
	}
	c, err := f.coerce(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	switch x := c.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	case []string:
		return formatList(x)
	}
	return fmt.Sprint(c)
}

// formatList uses the comma form when every item survives it unchanged, else JSON.
func formatList(items []string) string {
	for _, s := range items {
		if s != strings.TrimSpace(s) || strings.ContainsAny(s, ",\\\n\t\r") ||
			strings.HasPrefix(s, "[") || strings.IndexFunc(s, isControl) >= 0 {
			b, _ := json.Marshal(items)
			return string(b)
		}
	}
	return strings.Join(items, ", ")
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
