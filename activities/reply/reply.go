// Package reply cleans what a model wrote before it is posted: reasoning is separated
// (stored, never shown), echoes of the character's name or the user's message are
// removed, and replies that should be generated again are recognised. Pure functions.
package reply

import (
	"regexp"
	"strings"
	"unicode"
)

// Cleaned is a reply ready to post and the reasoning taken out of it.
type Cleaned struct {
	Text      string
	Reasoning string
}

// thinkTags are the tags reasoning models wrap their thinking in.
var thinkTags = regexp.MustCompile(`(?is)<(think|thinking|reasoning|reflection|thought)>(.*?)</(?:think|thinking|reasoning|reflection|thought)>`)

// unclosedThink is a thinking block the model never closed (cut off by max tokens):
// everything after it is thinking.
var unclosedThink = regexp.MustCompile(`(?is)^\s*<(think|thinking|reasoning)>(.*)$`)

// Clean separates reasoning (from the API field and from thinking tags) and strips a
// leading "Name:" echo and an echo of the user's message.
func Clean(raw, apiReasoning, character, userMessage string) Cleaned {
	var thoughts []string
	if r := strings.TrimSpace(apiReasoning); r != "" {
		thoughts = append(thoughts, r)
	}
	text := thinkTags.ReplaceAllStringFunc(raw, func(m string) string {
		if sub := thinkTags.FindStringSubmatch(m); len(sub) == 3 && strings.TrimSpace(sub[2]) != "" {
			thoughts = append(thoughts, strings.TrimSpace(sub[2]))
		}
		return ""
	})
	if m := unclosedThink.FindStringSubmatch(text); m != nil {
		thoughts = append(thoughts, strings.TrimSpace(m[2]))
		text = ""
	}
	text = strings.TrimSpace(text)
	text = stripUserEcho(text, userMessage)
	text = stripNamePrefix(text, character)
	return Cleaned{Text: strings.TrimSpace(text), Reasoning: strings.Join(thoughts, "\n\n")}
}

// stripNamePrefix removes "Lilith:", "**Lilith:**", "Lilith (character):" at the start,
// as models imitating the chat log often write. It parses by hand rather than building a
// regexp from the name: names are user input.
func stripNamePrefix(text, name string) string {
	name = strings.TrimSpace(strings.ToValidUTF8(name, ""))
	if name == "" {
		return text
	}
	rest := strings.TrimLeft(text, "*_")
	if len(rest) < len(name) || !strings.EqualFold(rest[:len(name)], name) {
		return text
	}
	rest = strings.TrimLeft(rest[len(name):], " \t")
	if strings.HasPrefix(rest, "(") {
		close := strings.IndexByte(rest, ')')
		if close < 0 {
			return text
		}
		rest = strings.TrimLeft(rest[close+1:], " \t")
	}
	rest = strings.TrimLeft(rest, "*_")
	if !strings.HasPrefix(rest, ":") {
		return text
	}
	return strings.TrimLeft(rest[1:], "*_ \t")
}

// stripUserEcho removes a first line that repeats the user's message (with or without
// the "Name:" the chat log gave it).
func stripUserEcho(text, userMessage string) string {
	um := normalize(userMessage)
	if um == "" {
		return text
	}
	first, rest, found := strings.Cut(text, "\n")
	if !found {
		return text // a one-line echo is caught by IsEchoOnly
	}
	f := normalize(first)
	if f == um || (strings.HasSuffix(f, um) && len(f)-len(um) < 40) {
		return strings.TrimSpace(rest)
	}
	return text
}

// Verdict says why a reply must be generated again ("" when it is fine).
func Verdict(c Cleaned, userMessage, previousReply string) string {
	t := normalize(c.Text)
	um := normalize(withoutMentions(userMessage))
	switch {
	case t == "":
		return "empty"
	case um != "" && (t == um || strings.HasSuffix(t, ": "+um) && len(t) < len(um)+40):
		return "echo of the user's message"
	case previousReply != "" && t == normalize(previousReply):
		return "duplicate of the previous reply"
	}
	return ""
}

// withoutMentions drops "@name" words: "@Lilith again please" echoes as "again please".
func withoutMentions(s string) string {
	words := strings.Fields(s)
	out := words[:0]
	for _, w := range words {
		if !strings.HasPrefix(w, "@") {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	return strings.Join(strings.Fields(s), " ")
}
