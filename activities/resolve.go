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
// when someone answers.
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
	for _, t := range triggers {
		p, err := a.Store.Personalities.ByID(ctx, t.PersonalityID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted between the lookup and now
		}
		if err != nil {
			return ResolvePersonalitiesResult{}, err
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
