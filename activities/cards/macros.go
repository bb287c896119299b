package cards

import "strings"

// macros maps each placeholder, lower-cased, to whether it stands for the character.
// {{char}} and {{user}} are the V2/V3 macros; <BOT> and <USER> are their V1 forms;
// <char> is the V3 spec's alias for {{char}}.
var macros = []struct {
	token  string
	isChar bool
}{
	{"{{char}}", true},
	{"{{user}}", false},
	{"<bot>", true},
	{"<char>", true},
	{"<user>", false},
}

// ExpandMacros replaces {{char}}, {{user}}, <BOT>, <CHAR> and <USER>, in any letter case,
// with the character's and the user's names. It works in one pass, so a name that itself
// looks like a macro is not expanded again.
func ExpandMacros(text, char, user string) string {
	if !strings.ContainsAny(text, "{<") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		c := text[i]
		if c == '{' || c == '<' {
			if name, n := matchMacro(text[i:], char, user); n > 0 {
				b.WriteString(name)
				i += n
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func matchMacro(s, char, user string) (string, int) {
	for _, m := range macros {
		if len(s) >= len(m.token) && strings.EqualFold(s[:len(m.token)], m.token) {
			if m.isChar {
				return char, len(m.token)
			}
			return user, len(m.token)
		}
	}
	return "", 0
}
