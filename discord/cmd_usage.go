package discord

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

// /usage (your own tokens by model for the last day, week and month) and the owner-only
// /admin usage (the whole bot's).
func (b *Bot) addUsageCommands() {
	b.add(&command{
		def: &discordgo.ApplicationCommand{Name: "usage", Description: "Tokens your conversations used, by model"},
		run: func(ctx context.Context, c *Call) error {
			u, err := c.user(ctx)
			if err != nil {
				return err
			}
			return b.usageReport(ctx, c, u.ID, "Your usage")
		},
	})
	b.add(&command{
		def: &discordgo.ApplicationCommand{Name: "admin", Description: "Bot owner tools",
			Options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "usage", Description: "Tokens the whole bot used, by model"}}},
		run: func(ctx context.Context, c *Call) error {
			if !b.Superusers[c.User.ID] {
				return Userf("Only the bot's owners can do that.")
			}
			return b.usageReport(ctx, c, "", "Bot usage")
		},
	})
}

func (b *Bot) usageReport(ctx context.Context, c *Call, userID, title string) error {
	now := time.Now()
	e := &discordgo.MessageEmbed{Title: title}
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"Last 24 hours", 24 * time.Hour}, {"Last 7 days", 7 * 24 * time.Hour}, {"Last 30 days", 30 * 24 * time.Hour}} {
		rows, err := b.Store.Usage.Totals(ctx, userID, now.Add(-p.d))
		if err != nil {
			return err
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: p.name, Value: usageLines(rows)})
	}
	return c.ReplyEmbed(e)
}

func usageLines(rows []store.UsageRow) string {
	if len(rows) == 0 {
		return "nothing yet"
	}
	var b strings.Builder
	in, out, calls := 0, 0, 0
	for _, r := range rows {
		fmt.Fprintf(&b, "`%s`: %d replies, %d in / %d out\n", r.Model, r.Calls, r.TokensIn, r.TokensOut)
		in, out, calls = in+r.TokensIn, out+r.TokensOut, calls+r.Calls
	}
	fmt.Fprintf(&b, "**Total:** %d replies, %d tokens", calls, in+out)
	return b.String()
}
