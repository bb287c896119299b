// Package discord is Tzurot's Discord side: gateway intake (cheap filters, then one
// Temporal workflow per message), the REST client activities use to read channels and
// deliver replies through webhooks, and Discord's limits.
package discord

import (
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Discord's limits that shape what we send.
const (
	// MaxMessageLength is the most characters one message may carry.
	MaxMessageLength = 2000
	// MaxWebhookNameLength is the most characters of a webhook message's username.
	MaxWebhookNameLength = 80
	// MaxModalInputLength is the most characters a modal's text input holds.
	MaxModalInputLength = 4000
	// Embed limits: field values, descriptions, titles, and the whole embed.
	MaxEmbedFieldValue  = 1024
	MaxEmbedFieldName   = 256
	MaxEmbedDescription = 4096
	MaxEmbedTitle       = 256
	MaxEmbedTotal       = 6000
	MaxEmbedFields      = 25
	truncationMarker    = "…"
)

// Truncate shortens s to at most max Discord characters, marking the cut with "…".
func Truncate(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if length(s) <= limit {
		return s
	}
	keep := limit - length(truncationMarker)
	n := 0
	for i, r := range s {
		w := max(utf16.RuneLen(r), 1)
		if n+w > keep {
			return s[:i] + truncationMarker
		}
		n += w
	}
	return s
}

// FitEmbed trims an embed to Discord's limits instead of letting Discord reject it: each
// part to its own limit, then fields dropped from the end until the total fits.
func FitEmbed(e *discordgo.MessageEmbed) *discordgo.MessageEmbed {
	if e == nil {
		return nil
	}
	out := *e
	out.Title = Truncate(out.Title, MaxEmbedTitle)
	out.Description = Truncate(out.Description, MaxEmbedDescription)
	if len(out.Fields) > MaxEmbedFields {
		out.Fields = out.Fields[:MaxEmbedFields]
	}
	fields := make([]*discordgo.MessageEmbedField, 0, len(out.Fields))
	for _, f := range out.Fields {
		if f == nil {
			continue
		}
		name, value := Truncate(f.Name, MaxEmbedFieldName), Truncate(f.Value, MaxEmbedFieldValue)
		if strings.TrimSpace(value) == "" {
			value = "—"
		}
		fields = append(fields, &discordgo.MessageEmbedField{Name: name, Value: value, Inline: f.Inline})
	}
	out.Fields = fields
	for embedLength(&out) > MaxEmbedTotal && len(out.Fields) > 0 {
		out.Fields = out.Fields[:len(out.Fields)-1]
	}
	if over := embedLength(&out) - MaxEmbedTotal; over > 0 {
		out.Description = Truncate(out.Description, max(length(out.Description)-over, 1))
	}
	return &out
}

func embedLength(e *discordgo.MessageEmbed) int {
	n := length(e.Title) + length(e.Description)
	for _, f := range e.Fields {
		n += length(f.Name) + length(f.Value)
	}
	if e.Footer != nil {
		n += length(e.Footer.Text)
	}
	return n
}

// length counts like Discord does (UTF-16 code units), so emoji-heavy text never
// overflows a chunk.
func length(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
		if utf16.RuneLen(r) < 0 {
			n++ // invalid rune: counted as the replacement character
		}
	}
	return n
}

var forbiddenName = regexp.MustCompile(`(?i)discord|clyde`)

// WebhookName makes a display name acceptable as a webhook username: Discord rejects
// names containing "discord" or "clyde", and more than 80 characters.
func WebhookName(name string) string {
	name = strings.TrimSpace(strings.ToValidUTF8(name, ""))
	name = forbiddenName.ReplaceAllStringFunc(name, func(s string) string {
		// A zero-width joiner breaks the word without changing how it reads.
		_, size := utf8.DecodeRuneInString(s)
		return s[:size] + "\u200d" + s[size:]
	})
	if name == "" {
		name = "Tzurot"
	}
	for length(name) > MaxWebhookNameLength {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// Chunk splits text into messages of at most limit characters. It breaks between lines
// where it can, then between words, then anywhere; a code block cut in two is closed at
// the end of one chunk and reopened (same language) at the start of the next.
func Chunk(text string, limit int) []string {
	text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	if text == "" {
		return nil
	}
	c := chunker{limit: limit}
	for _, line := range strings.Split(text, "\n") {
		c.addLine(line)
	}
	c.flush(false)
	return c.out
}

const closeFence = "\n```"

type chunker struct {
	limit int
	out   []string
	cur   strings.Builder
	n     int    // length of cur in Discord characters
	fence string // the opening fence line while inside a code block
}

func (c *chunker) addLine(line string) {
	trimmed := strings.TrimSpace(line)
	isFence := strings.HasPrefix(trimmed, "```")
	opens := isFence && c.fence == "" && strings.Count(trimmed, "```") == 1
	closes := isFence && c.fence != ""
	reserve := 0
	if (c.fence != "" && !closes) || opens {
		reserve = length(closeFence)
	}
	for _, piece := range c.split(line, reserve) {
		sep := 0
		if c.n > 0 {
			sep = 1
		}
		if c.n+sep+length(piece)+reserve > c.limit {
			c.flush(true)
			sep = 0
			if c.n > 0 {
				sep = 1
			}
		}
		if sep == 1 {
			c.cur.WriteByte('\n')
		}
		c.cur.WriteString(piece)
		c.n += sep + length(piece)
	}
	switch {
	case opens:
		c.fence = trimmed
	case closes:
		c.fence = ""
	}
}

// split cuts a line too long for an empty chunk (after a reopened fence) into pieces:
// after a sentence where one ends in the second half of the room, else at a space, else
// anywhere. It walks the line once.
func (c *chunker) split(line string, reserve int) []string {
	room := c.limit - reserve
	if c.fence != "" {
		room -= length(c.fence) + 1
	}
	room = max(room, 2) // a UTF-16 surrogate pair must always fit
	if length(line) <= room {
		return []string{line}
	}
	var pieces []string
	start, n := 0, 0
	lastSpace, lastSentence := -1, -1 // byte offsets of the space to cut at
	var prev rune
	for i, r := range line {
		w := max(utf16.RuneLen(r), 1)
		if n+w > room {
			cut := i
			switch {
			case lastSentence > start && n > room/2:
				cut = lastSentence
			case lastSpace > start && n > room/2:
				cut = lastSpace
			}
			pieces = append(pieces, strings.TrimRight(line[start:cut], " "))
			if cut == lastSentence || cut == lastSpace {
				cut++ // drop the space we broke at
			}
			start, lastSpace, lastSentence = cut, -1, -1
			n = length(line[start:i])
		}
		if r == ' ' {
			lastSpace = i
			if prev == '.' || prev == '!' || prev == '?' || prev == '…' {
				lastSentence = i
			}
		}
		prev = r
		n += w
	}
	return append(pieces, line[start:])
}

// flush ends the current chunk; mid is true when a code block continues in the next one.
func (c *chunker) flush(mid bool) {
	s := c.cur.String()
	if mid && c.fence != "" {
		s += closeFence
	}
	if strings.TrimSpace(s) != "" && strings.TrimSpace(s) != strings.TrimSpace(c.fence) {
		c.out = append(c.out, s)
	}
	c.cur.Reset()
	c.n = 0
	if mid && c.fence != "" {
		c.cur.WriteString(c.fence)
		c.n = length(c.fence)
	}
}
