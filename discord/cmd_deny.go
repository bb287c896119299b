package discord

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

// maxDenyListed is how many entries /deny ... browse shows (newest first).
const maxDenyListed = 20

var snowflake = regexp.MustCompile(`^\d{15,21}$`)

// /deny user|server add|remove|browse: the operators' denylist. A denied user's or
// server's messages start nothing (the gateway's guard drops them before any workflow).
func (b *Bot) addDenyCommands() {
	reason := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "reason",
		Description: "Why (kept for the other operators)", MaxLength: 200}
	user := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "user",
		Description: "The user (or paste their id)", Required: true}
	serverOpt := func(required bool, desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "server",
			Description: desc, Required: required, MinLength: new(15), MaxLength: 21}
	}
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	group := func(name, desc string, subs ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: name, Description: desc, Options: subs}
	}
	b.add(&command{
		def: &discordgo.ApplicationCommand{
			Name: "deny", Description: "Operators only: keep a user or a server away from every character",
			Options: []*discordgo.ApplicationCommandOption{
				group("user", "Deny a user everywhere",
					sub("add", "Deny a user", user, reason), sub("remove", "Lift a user's denial", user), sub("browse", "List denied users")),
				group("server", "Deny a whole server",
					sub("add", "Deny a server", serverOpt(false, "Server id (default: this server)"), reason),
					sub("remove", "Lift a server's denial", serverOpt(true, "Server id")), sub("browse", "List denied servers")),
			},
		},
		run: b.denyCommand,
	})
}

func (b *Bot) denyCommand(ctx context.Context, c *Call) error {
	if !b.Superusers[c.User.ID] {
		return Userf("Only the bot's operators can do that.")
	}
	group, action, _ := strings.Cut(c.Sub, " ")
	kind, id, label := store.DenyUser, c.String("user"), ""
	if group == "server" {
		kind, id = store.DenyGuild, strings.TrimSpace(c.String("server"))
		if id == "" && action == "add" {
			id = c.GuildID()
		}
	}
	if action == "browse" {
		return b.denyBrowse(ctx, c, kind)
	}
	if !snowflake.MatchString(id) {
		if group == "server" && id == "" {
			return Userf("Give the server's id (right-click the server icon, Copy Server ID); here there is no server to default to.")
		}
		return Userf("%q is not a Discord id: ids are 15 to 21 digits.", id)
	}
	if kind == store.DenyUser {
		label = "<@" + id + ">"
	} else {
		label = "server `" + id + "`"
	}
	switch action {
	case "add":
		if kind == store.DenyUser && b.Superusers[id] {
			return Userf("%s is an operator; take them off SUPERUSERS first.", label)
		}
		added, err := b.Store.Safety.Deny(ctx, kind, id, c.String("reason"))
		if err != nil {
			return err
		}
		b.Guard.Invalidate()
		b.Logger.Info("denylist changed", "action", "add", "kind", string(kind), "discord_id", id, "by", c.User.ID)
		verb := "Denied"
		if !added {
			verb = "Already denied; reason updated for"
		}
		return c.Reply(fmt.Sprintf("%s %s: their messages no longer reach any character.", verb, label))
	case "remove":
		removed, err := b.Store.Safety.Undeny(ctx, kind, id)
		if err != nil {
			return err
		}
		b.Guard.Invalidate()
		if !removed {
			return c.Reply(fmt.Sprintf("%s was not denied.", capitalize(label)))
		}
		b.Logger.Info("denylist changed", "action", "remove", "kind", string(kind), "discord_id", id, "by", c.User.ID)
		return c.Reply(fmt.Sprintf("Lifted: %s can talk with the characters again.", label))
	}
	return Userf("Unknown subcommand %q.", c.Sub)
}

func (b *Bot) denyBrowse(ctx context.Context, c *Call, kind store.DenyKind) error {
	entries, err := b.Store.Safety.DenyEntries(ctx, kind, maxDenyListed+1)
	if err != nil {
		return err
	}
	what := map[store.DenyKind]string{store.DenyUser: "users", store.DenyGuild: "servers"}[kind]
	if len(entries) == 0 {
		return c.Reply("No denied " + what + ".")
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "**Denied %s** (newest first)\n", what)
	for i, e := range entries {
		if i == maxDenyListed {
			sb.WriteString("…and more.\n")
			break
		}
		name := "`" + e.DiscordID + "`"
		if kind == store.DenyUser {
			name = "<@" + e.DiscordID + "> " + name
		}
		reason := e.Reason
		if reason == "" {
			reason = "no reason given"
		}
		fmt.Fprintf(&sb, "- %s, <t:%d:d>: %s\n", name, e.CreatedAt.Unix(), reason)
	}
	return c.Reply(sb.String())
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
