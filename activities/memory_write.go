package activities

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/tzurot/tzurot/activities/embed"
	"github.com/tzurot/tzurot/store"
)

// turnMemorySide bounds each side of a turn memory, in characters: a memory is recalled
// whole into a prompt's memory share, so one long message must not crowd out the rest.
const turnMemorySide = 600

// TurnMemoryText is the episodic memory of one turn, in the third person so it reads the
// same in any later prompt: `Alice said: "…"; Lilith answered: "…"`. Mentions are left
// out (StripMentions), whitespace is collapsed and each side cut (with an ellipsis) to
// turnMemorySide characters. It is ""
// when the user said nothing (an attachment alone) and the reply is empty too.
func TurnMemoryText(userName, said, characterName, reply string) string {
	said, reply = squeeze(StripMentions(said), turnMemorySide), squeeze(StripMentions(reply), turnMemorySide)
	if userName = strings.TrimSpace(userName); userName == "" {
		userName = "The user"
	}
	if characterName = strings.TrimSpace(characterName); characterName == "" {
		characterName = "the character"
	}
	switch {
	case said == "" && reply == "":
		return ""
	case said == "":
		return characterName + " said to " + userName + ": \"" + reply + "\""
	case reply == "":
		return userName + " said: \"" + said + "\""
	}
	return userName + " said: \"" + said + "\"; " + characterName + " answered: \"" + reply + "\""
}

// mention is an @name or a Discord mention (<@123>, <@!123>, <@&123>, <#123>).
var mention = regexp.MustCompile(`<[@#][!&]?\d+>[,:]?|(^|[\s(])@[^\s,.:;!?()]+[,:]?`)

// StripMentions removes mentions from text: they say whom a message addresses, not what
// it says, and left in they make every memory that named a character look relevant to
// every message that names it again.
func StripMentions(s string) string {
	s = mention.ReplaceAllString(s, "$1")
	return strings.TrimLeft(strings.Join(strings.Fields(s), " "), ",;: ")
}

// squeeze collapses whitespace and cuts s to n characters at a word boundary if it can.
func squeeze(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// rememberTurn writes a finished turn as one episodic memory of the persona with the
// character, unless the user is incognito, then keeps the scope within its quota. When
// the embedder fails the memory is stored without a vector (the re-embed job fills it in
// later): a turn's memory is never lost to a provider outage.
func (a *Activities) rememberTurn(ctx context.Context, in RecordTurnInput, said string) (RecordTurnResult, error) {
	if in.User.PersonaID == "" {
		return RecordTurnResult{MemorySkipped: "no persona"}, nil
	}
	modes, err := a.Store.Memories.Modes(ctx, in.User.ID)
	if err != nil {
		return RecordTurnResult{}, err
	}
	if modes.Incognito {
		return RecordTurnResult{MemorySkipped: "incognito"}, nil
	}
	text := TurnMemoryText(in.User.DisplayName, said, in.Personality.DisplayName, in.Reply.Text)
	if strings.TrimSpace(text) == "" {
		return RecordTurnResult{MemorySkipped: "empty"}, nil
	}
	set := a.memorySettings(ctx)
	m := store.Memory{
		PersonaID: in.User.PersonaID, PersonalityID: in.Personality.ID, Content: text,
		Sector: store.SectorEpisodic, Origin: store.OriginTurn, Salience: float32(set.TurnSalience),
		SourceMessageIDs: append([]string{in.Message.ID}, in.MessageIDs...), CreatedAt: a.now(),
	}
	res := RecordTurnResult{}
	switch vec, err := a.embedInline(ctx, text); {
	case err == nil:
		m.Embedding, m.Embedder = vec, EmbedderID(a.Embedder)
	case errors.Is(err, embed.ErrEmptyText):
		return RecordTurnResult{MemorySkipped: "empty"}, nil
	default:
		if !errors.Is(err, errNoEmbedder) {
			a.log().Warn("turn memory stored without a vector; the re-embed job will embed it", "embedder", EmbedderID(a.Embedder), "err", err)
		}
		res.MemorySkipped = "pending"
	}
	if res.MemoryID, _, err = a.Store.Memories.Write(ctx, m); err != nil {
		return RecordTurnResult{}, err
	}
	n, err := a.Store.Memories.EnforceQuota(ctx, m.PersonaID, m.PersonalityID, set.Quota, a.now())
	if err != nil {
		return res, err
	}
	if n > 0 {
		a.log().Info("memory quota reached; archived the lowest-value memories", "archived", n, "quota", set.Quota)
	}
	return res, nil
}
