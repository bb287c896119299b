// Package prompt assembles the messages sent to the LLM for one personality's turn. It is
// pure: no I/O, no clock (the caller passes Now), so golden files pin the exact prompt.
package prompt

import (
	"fmt"
	"strings"
	"time"

	"github.com/tzurot/tzurot/store"
)

// Line is one message of the chat log, attributed to its speaker.
type Line struct {
	Speaker string    `json:"speaker"`
	Role    string    `json:"role"` // "user" (humans, other characters) or "assistant" (this character)
	Content string    `json:"content"`
	At      time.Time `json:"at"`
}

// Input is everything a prompt is built from.
type Input struct {
	Personality  store.Personality
	UserName     string // how the author is introduced (persona or display name)
	Participants []Participant
	Location     string    // see Where
	Now          time.Time // already in the user's time zone
	History      []Line    // oldest first, already trimmed to the token budget
	Memories     []string
	References   []Line // messages the new message replies to or links, nearest first
	Message      Line   // the message being answered
}

// Participant introduces someone in the conversation by their persona.
type Participant struct {
	Name     string
	Pronouns string
	About    string
}

// Where describes the location: a channel of a server, a thread in a channel, or a DM.
func Where(guild, channel, threadParent string, dm bool) string {
	switch {
	case dm:
		return "a direct message"
	case guild == "":
		guild = "a Discord server"
	default:
		guild = "the Discord server \"" + guild + "\""
	}
	switch {
	case channel != "" && threadParent != "":
		return fmt.Sprintf("the thread \"%s\" in #%s of %s", channel, threadParent, guild)
	case channel != "":
		return fmt.Sprintf("#%s of %s", channel, guild)
	}
	return guild
}

// Message is one chat message for the LLM.
type Message struct {
	Role    string
	Content string
}

// Build returns the system message, the chat log and the new message, in that order.
func Build(in Input) []Message {
	msgs := []Message{{Role: "system", Content: System(in)}}
	for _, l := range in.History {
		msgs = append(msgs, line(l, in.Now))
	}
	msgs = append(msgs, line(in.Message, in.Now))
	return msgs
}

// System renders the system message: constraints, identity, card, setting and memories.
func System(in Input) string {
	p := in.Personality
	var b strings.Builder
	fmt.Fprintf(&b, "You are %s, a character in a Discord conversation. Stay in character and answer as %s only; never write lines for other participants.\n", p.DisplayName, p.DisplayName)
	b.WriteString("Write plain Discord markdown. Keep replies conversational; long answers are fine when asked for.\n")
	section(&b, "Character", p.CharacterInfo)
	section(&b, "Personality traits", p.Traits)
	section(&b, "Tone", p.Tone)
	section(&b, "Age", p.Age)
	section(&b, "Appearance", p.Appearance)
	section(&b, "Likes", p.Likes)
	section(&b, "Dislikes", p.Dislikes)
	section(&b, "Conversational goals", p.ConversationalGoals)
	section(&b, "Example dialogue", p.ConversationalExamples)
	section(&b, "Instructions", p.SystemPrompt)
	setting := fmt.Sprintf("You are talking in %s. The current date and time is %s.", in.Location, in.Now.Format("Monday, 2 January 2006 15:04 MST"))
	if isBirthday(p.Birthday, in.Now) {
		setting += fmt.Sprintf(" Today is %s's birthday.", p.DisplayName)
	}
	if in.UserName != "" {
		setting += fmt.Sprintf(" You are answering %s.", in.UserName)
	}
	section(&b, "Setting", setting)
	if len(in.Participants) > 0 {
		b.WriteString("\n## Participants\n")
		for _, p := range in.Participants {
			line := "- " + p.Name
			if p.Pronouns != "" {
				line += " (" + p.Pronouns + ")"
			}
			if about := strings.TrimSpace(p.About); about != "" {
				line += ": " + about
			}
			b.WriteString(line + "\n")
		}
	}
	if len(in.Memories) > 0 {
		b.WriteString("\n## Things you remember\n")
		for _, m := range in.Memories {
			fmt.Fprintf(&b, "- %s\n", strings.TrimSpace(m))
		}
	}
	if len(in.References) > 0 {
		b.WriteString("\n## Messages the new message refers to\n")
		for _, r := range in.References {
			fmt.Fprintf(&b, "> %s (%s): %s\n", r.Speaker, Ago(in.Now.Sub(r.At)), strings.ReplaceAll(strings.TrimSpace(r.Content), "\n", "\n> "))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func section(b *strings.Builder, title, body string) {
	body = strings.TrimSpace(body)
	if body == "" {
		return
	}
	fmt.Fprintf(b, "\n## %s\n%s\n", title, body)
}

func line(l Line, now time.Time) Message {
	if l.Role == "assistant" {
		return Message{Role: "assistant", Content: l.Content}
	}
	when := ""
	if !l.At.IsZero() {
		when = " (" + Ago(now.Sub(l.At)) + ")"
	}
	return Message{Role: "user", Content: fmt.Sprintf("%s%s: %s", l.Speaker, when, l.Content)}
}

// Ago renders a duration as people say it: "just now", "5 minutes ago", "3 days ago".
func Ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	default:
		return plural(int(d/(24*time.Hour)), "day")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit + " ago"
	}
	return fmt.Sprintf("%d %ss ago", n, unit)
}

// isBirthday accepts "MM-DD" and "YYYY-MM-DD".
func isBirthday(birthday string, now time.Time) bool {
	if len(birthday) == 10 {
		birthday = birthday[5:]
	}
	return birthday != "" && birthday == now.Format("01-02")
}
