package activities

import (
	"strings"
	"unicode"

	"github.com/tzurot/tzurot/store"
)

// maxNameWords is the longest multi-word name an @mention can carry ("@Lady Lilith of Night").
const maxNameWords = 4

// Mention is one @name found in a message, resolved to a personality.
type Mention struct {
	PersonalityID string
	Offset        int // byte offset of the '@'
}

// MatchMentions finds every @name in content that names a personality, left to right.
// Matching is case-insensitive, prefers the longest name (up to four words), tolerates
// markdown and quotes around the name, punctuation and possessives after it
// ("@Lilith's", "@**Lilith**,"). A personal alias of userID beats a global name.
func MatchMentions(content string, names []store.NameEntry, userID string) []Mention {
	index := map[string]store.NameEntry{}
	for _, n := range names {
		key := normalizeName(n.Name)
		if key == "" {
			continue
		}
		if prev, ok := index[key]; ok && (prev.UserID != "" || n.UserID == "") {
			continue // a personal alias already won, or both are global: first wins
		}
		if n.UserID != "" && n.UserID != userID {
			continue
		}
		index[key] = n
	}
	var out []Mention
	for i := 0; i < len(content); i++ {
		if content[i] != '@' || (i > 0 && isWordByte(content[i-1])) || i+1 == len(content) || unicode.IsSpace(rune(content[i+1])) {
			continue // "me@x.com" and a lone "@ " call nobody
		}
		words := strings.Fields(content[i+1:])
		if len(words) == 0 {
			continue
		}
		for n := min(maxNameWords, len(words)); n >= 1; n-- {
			if e, ok := index[normalizeName(strings.Join(words[:n], " "))]; ok {
				out = append(out, Mention{PersonalityID: e.PersonalityID, Offset: i})
				break
			}
		}
	}
	return out
}

// smartQuotes folds typographic quotes into plain ones (read-only after init).
var smartQuotes = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u201c", `"`, "\u201d", `"`)

// normalizeName folds a candidate name for comparison: lower case, smart quotes made
// plain, markdown and punctuation trimmed from both ends, a possessive dropped.
func normalizeName(s string) string {
	s = smartQuotes.Replace(s)
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	trim := func(s string) string {
		return strings.TrimFunc(s, func(r rune) bool {
			return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
		})
	}
	s = trim(s)
	if strings.HasSuffix(s, "'s") {
		s = trim(strings.TrimSuffix(s, "'s"))
	}
	return s
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// OrderTriggers merges the ways a message can call personalities into delivery order:
// the reply target first, then mentions left to right, then the channel's activated
// personality; duplicates removed, at most max.
func OrderTriggers(replyTarget string, mentions []Mention, activated string, max int) []Trigger {
	var out []Trigger
	seen := map[string]bool{}
	add := func(id, reason string) {
		if id == "" || seen[id] || (max > 0 && len(out) >= max) {
			return
		}
		seen[id] = true
		out = append(out, Trigger{PersonalityID: id, Reason: reason})
	}
	add(replyTarget, "reply")
	for _, m := range mentions {
		add(m.PersonalityID, "mention")
	}
	if len(out) == 0 {
		// An activated personality answers messages that name nobody else.
		add(activated, "activation")
	}
	return out
}

// Trigger is one personality to run and the reason it was chosen.
type Trigger struct {
	PersonalityID string
	Reason        string
}
