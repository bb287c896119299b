package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

var manageGuild = int64(discordgo.PermissionManageGuild)

// restrictOptions is the `/channel restrict` group: where in a server characters answer.
func restrictOptions() *discordgo.ApplicationCommandOption {
	channelOpt := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel",
		Description: "The channel (default: this one)",
		ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews,
			discordgo.ChannelTypeGuildForum, discordgo.ChannelTypeGuildPublicThread, discordgo.ChannelTypeGuildPrivateThread}}
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	return &discordgo.ApplicationCommandOption{
		Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "restrict",
		Description: "Choose where in this server characters answer (Manage Server)",
		Options: []*discordgo.ApplicationCommandOption{
			sub("mode", "allow: only in listed channels; deny: everywhere but them; off: everywhere",
				&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "mode", Description: "How the list is read", Required: true,
					Choices: []*discordgo.ApplicationCommandOptionChoice{
						{Name: "allow: only in the listed channels", Value: string(store.RestrictAllow)},
						{Name: "deny: everywhere but the listed channels", Value: string(store.RestrictDeny)},
						{Name: "off: in every channel", Value: string(store.RestrictOff)},
					}}),
			sub("add", "Put a channel on the list", channelOpt),
			sub("remove", "Take a channel off the list", channelOpt),
			sub("view", "Show the mode and the list"),
		},
	}
}

// restrictCommand runs `/channel restrict ...`. Changes take effect at once on this
// replica (the guard's cache is invalidated) and within RulesRefresh on the others.
func (b *Bot) restrictCommand(ctx context.Context, c *Call) error {
	if !c.Can(manageGuild) {
		return Userf("You need the Manage Server permission to choose where characters answer.")
	}
	guild := c.GuildID()
	channel := c.String("channel")
	if channel == "" {
		channel = c.I.ChannelID
	}
	prefix := ""
	switch c.Sub {
	case "restrict mode":
		mode := store.RestrictMode(c.String("mode"))
		if mode == store.RestrictAllow {
			cur, err := b.Store.Safety.Restriction(ctx, guild)
			if err != nil {
				return err
			}
			if len(cur.Channels) == 0 {
				// An empty allowlist would silence every character in the server at once.
				if _, err := b.Store.Safety.AddRestrictedChannel(ctx, guild, c.I.ChannelID); err != nil {
					return err
				}
				prefix = fmt.Sprintf("The list was empty, so I put <#%s> on it.\n", c.I.ChannelID)
			}
		}
		if err := b.Store.Safety.SetRestrictMode(ctx, guild, mode); err != nil {
			if errors.Is(err, store.ErrBadMode) {
				return Userf("Pick a mode from the list: allow, deny or off.")
			}
			return err
		}
	case "restrict add":
		added, err := b.Store.Safety.AddRestrictedChannel(ctx, guild, channel)
		if err != nil {
			return err
		}
		if !added {
			prefix = fmt.Sprintf("<#%s> was already on the list.\n", channel)
		}
	case "restrict remove":
		removed, err := b.Store.Safety.RemoveRestrictedChannel(ctx, guild, channel)
		if err != nil {
			return err
		}
		if !removed {
			prefix = fmt.Sprintf("<#%s> was not on the list.\n", channel)
		}
	case "restrict view":
	default:
		return Userf("Unknown subcommand %q.", c.Sub)
	}
	if c.Sub != "restrict view" {
		b.Guard.Invalidate()
	}
	r, err := b.Store.Safety.Restriction(ctx, guild)
	if err != nil {
		return err
	}
	return c.Reply(prefix + describeRestriction(r))
}

// describeRestriction says in one or two lines where characters answer.
func describeRestriction(r store.Restriction) string {
	list := make([]string, len(r.Channels))
	for i, ch := range r.Channels {
		list[i] = "<#" + ch + ">"
	}
	joined := strings.Join(list, ", ")
	switch r.Mode {
	case store.RestrictAllow:
		if len(list) == 0 {
			return "Characters answer **nowhere** in this server: the allowlist is empty. `/channel restrict add` a channel, or `/channel restrict mode off`."
		}
		return "Characters answer **only** in " + joined + " (and their threads)."
	case store.RestrictDeny:
		if len(list) == 0 {
			return "Characters answer in every channel: the denylist is empty. `/channel restrict add` a channel to keep them out of it."
		}
		return "Characters answer everywhere **except** in " + joined + " (and their threads)."
	}
	if len(list) == 0 {
		return "Characters answer in every channel of this server. `/channel restrict add` channels, then `/channel restrict mode allow` or `deny`."
	}
	return "Characters answer in every channel of this server (restriction off). The saved list, used by `/channel restrict mode allow` or `deny`: " + joined + "."
}
