package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

var manageMessages = int64(discordgo.PermissionManageMessages)

// /channel activate <character> | deactivate: an activated character answers every
// human message in the channel (and its threads). Needs Manage Messages.
func (b *Bot) addChannelCommands() {
	b.add(&command{
		def: &discordgo.ApplicationCommand{
			Name:                     "channel",
			Description:              "Make a character answer every message in this channel",
			DefaultMemberPermissions: &manageMessages,
			Contexts:                 &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild},
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "activate", Description: "A character answers every message here",
					Options: []*discordgo.ApplicationCommandOption{characterOption("The character to activate")}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "deactivate", Description: "Stop the activated character here"},
				restrictOptions(),
			},
		},
		run:          b.channelCommand,
		autocomplete: b.completeCharacter,
	})
}

func characterOption(desc string) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "character",
		Description: desc, Required: true, Autocomplete: true, MaxLength: 100}
}

func (b *Bot) channelCommand(ctx context.Context, c *Call) error {
	if c.GuildID() == "" {
		return Userf("Channels can be activated in servers only; in DMs the last character you talked to keeps answering.")
	}
	if strings.HasPrefix(c.Sub, "restrict ") {
		return b.restrictCommand(ctx, c) // needs Manage Server rather than Manage Messages
	}
	if !c.Can(manageMessages) {
		return Userf("You need the Manage Messages permission in this channel to do that.")
	}
	switch c.Sub {
	case "activate":
		p, err := b.Store.Personalities.Resolve(ctx, c.String("character"))
		if err == nil && !p.IsPublic && !b.owns(ctx, c, p) {
			err = store.ErrNotFound // private characters are invisible to others
		}
		if errors.Is(err, store.ErrNotFound) {
			return Userf("I know no character called %q. Start typing and pick one from the list.", c.String("character"))
		}
		if err != nil {
			return err
		}
		if err := b.Store.Channels.Activate(ctx, c.I.ChannelID, c.GuildID(), p.ID); err != nil {
			return err
		}
		b.Activations.Invalidate()
		return c.Reply(fmt.Sprintf("**%s** now answers every message in <#%s> (and its threads). `/channel deactivate` stops it.", p.DisplayName, c.I.ChannelID))
	case "deactivate":
		was, err := b.Store.Channels.Deactivate(ctx, c.I.ChannelID)
		if err != nil {
			return err
		}
		b.Activations.Invalidate()
		if !was {
			return c.Reply("No character is activated in this channel.")
		}
		return c.Reply("Done: characters here answer only when @mentioned or replied to.")
	}
	return Userf("Unknown subcommand %q.", c.Sub)
}

// completeCharacter offers characters whose names contain what the user typed.
func (b *Bot) completeCharacter(ctx context.Context, c *Call, focused *discordgo.ApplicationCommandInteractionDataOption) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	typed, _ := focused.Value.(string)
	ps, err := b.Store.Personalities.Search(ctx, typed, 25)
	if err != nil {
		return nil, err
	}
	out := make([]*discordgo.ApplicationCommandOptionChoice, 0, len(ps))
	for _, p := range ps {
		if !p.IsPublic && !b.owns(ctx, c, p) {
			continue
		}
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: Truncate(p.DisplayName+" ("+p.Slug+")", 100), Value: p.Slug})
	}
	return out, nil
}

// owns reports whether the caller owns a personality (or is a superuser).
func (b *Bot) owns(ctx context.Context, c *Call, p store.Personality) bool {
	if b.Superusers[c.User.ID] {
		return true
	}
	if p.OwnerID == "" {
		return false
	}
	u, err := b.Store.Users.ByDiscordID(ctx, c.User.ID)
	return err == nil && u.ID == p.OwnerID
}
