package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/tzurot/tzurot/store"
)

// ResolvePersonalities decides who answers a message: the personality whose message it
// replies to, then @mentions left to right, else the channel's activated personality.
// Unknown names trigger nobody. The author becomes a user (with a default persona) only
// when someone answers. An NSFW character answers only an author verified for it (using
// the bot in an age-restricted channel verifies); anyone else gets a notice instead.
func (a *Activities) ResolvePersonalities(ctx context.Context, in ResolvePersonalitiesInput) (ResolvePersonalitiesResult, error) {
	msg := in.Message
	max := in.Max
	if max <= 0 {
		max = a.Config.MaxPersonalities
	}
	names, err := a.Store.Personalities.Names(ctx, msg.AuthorID)
	if err != nil {
		return ResolvePersonalitiesResult{}, fmt.Errorf("load names: %w", err)
	}
	var replyTarget, activated string
	if msg.ReferencedMessageID != "" {
		replyTarget, err = a.Store.Deliveries.PersonalityForMessage(ctx, msg.ReferencedMessageID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return ResolvePersonalitiesResult{}, fmt.Errorf("reply target: %w", err)
		}
	}
	for _, ch := range []string{msg.ChannelID, msg.ParentChannelID} {
		if ch == "" || activated != "" {
			continue
		}
		activated, err = a.Store.Channels.Activated(ctx, ch)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return ResolvePersonalitiesResult{}, fmt.Errorf("channel activation: %w", err)
		}
	}
	if msg.GuildID == "" && activated == "" {
		// In a DM the last character used keeps answering until another is named.
		activated, err = a.Store.History.LastPersonality(ctx, msg.ChannelID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return ResolvePersonalitiesResult{}, fmt.Errorf("last DM character: %w", err)
		}
	}
	triggers := OrderTriggers(replyTarget, MatchMentions(msg.Content, names, msg.AuthorID), activated, max)
	var res ResolvePersonalitiesResult
	nsfwOK := a.nsfwAllowed(msg)
	for _, t := range triggers {
		p, err := a.Store.Personalities.ByID(ctx, t.PersonalityID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted between the lookup and now
		}
		if err != nil {
			return ResolvePersonalitiesResult{}, err
		}
		if p.IsNSFW {
			ok, err := nsfwOK(ctx)
			if err != nil {
				return ResolvePersonalitiesResult{}, err
			}
			if !ok {
				res.Notices = append(res.Notices, fmt.Sprintf(NSFWNotice, p.DisplayName))
				continue
			}
		}
		res.Personalities = append(res.Personalities, PersonalityRef{
			ID: p.ID, Slug: p.Slug, DisplayName: p.DisplayName, AvatarURL: p.AvatarURL, Reason: t.Reason,
		})
	}
	if len(res.Personalities) == 0 {
		return res, nil
	}
	u, err := a.Store.Users.Ensure(ctx, msg.AuthorID, msg.AuthorUsername, msg.AuthorDisplayName)
	if err != nil {
		return ResolvePersonalitiesResult{}, err
	}
	if msg.ChannelNSFW {
		if err := a.Store.Safety.VerifyNSFW(ctx, u.ID); err != nil {
			return ResolvePersonalitiesResult{}, err
		}
	}
	res.User = UserRef{ID: u.ID, PersonaID: u.DefaultPersonaID, DisplayName: displayName(msg), Timezone: u.Timezone}
	if persona, err := a.Store.Personas.ByID(ctx, u.DefaultPersonaID); err == nil {
		if persona.PreferredName != "" {
			res.User.DisplayName = persona.PreferredName
		}
		res.User.Pronouns, res.User.About = persona.Pronouns, persona.Description
	} else if !errors.Is(err, store.ErrNotFound) {
		return ResolvePersonalitiesResult{}, err
	}
	return res, nil
}

// NSFWNotice is what an author not verified for NSFW characters reads instead of the
// character's answer (%s: the character's name).
const NSFWNotice = "%s is an NSFW (18+) character. To talk with NSFW characters, first use the bot once in an " +
	"age-restricted channel of a server: that verifies you, everywhere and for good."

// nsfwAllowed returns a lookup, made at most once, of whether the author may talk with
// NSFW characters: in an age-restricted channel anyone there may (Discord checked their
// age to let them in), elsewhere only users verified that way before.
func (a *Activities) nsfwAllowed(msg MessageSnapshot) func(context.Context) (bool, error) {
	var done, ok bool
	return func(ctx context.Context) (bool, error) {
		if msg.ChannelNSFW || done {
			return msg.ChannelNSFW || ok, nil
		}
		var err error
		if ok, err = a.Store.Safety.NSFWVerified(ctx, msg.AuthorID); err != nil {
			return false, fmt.Errorf("nsfw verification: %w", err)
		}
		done = true
		return ok, nil
	}
}

// ResolveKey picks the key that pays for this turn and returns a handle to it.
func (a *Activities) ResolveKey(ctx context.Context, in ResolveKeyInput) (KeyHandle, error) {
	return a.Keys.Resolve(ctx, in.UserID, in.PersonalityID)
}

func displayName(m MessageSnapshot) string {
	if m.AuthorDisplayName != "" {
		return m.AuthorDisplayName
	}
	return m.AuthorUsername
}
