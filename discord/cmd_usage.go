package discord

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workflows"
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
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "usage", Description: "Tokens the whole bot used, by model"},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "health", Description: "Gateway, database, Temporal, backlog, version, uptime"},
			}},
		run: func(ctx context.Context, c *Call) error {
			if !b.Superusers[c.User.ID] {
				return Userf("Only the bot's owners can do that.")
			}
			if c.Sub == "health" {
				return b.health(ctx, c)
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

// health answers /admin health: what an owner checks first when the bot seems slow.
func (b *Bot) health(ctx context.Context, c *Call) error {
	check := func(err error, ok string) string {
		if err != nil {
			return "❌ " + Truncate(err.Error(), 300)
		}
		return "✅ " + ok
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	start := time.Now()
	dbErr := b.Store.Ping(ctx)
	dbTook := time.Since(start)
	e := &discordgo.MessageEmbed{Title: "Health", Fields: []*discordgo.MessageEmbedField{
		{Name: "Discord gateway", Value: fmt.Sprintf("heartbeat latency %s", b.Session.HeartbeatLatency().Round(time.Millisecond)), Inline: true},
		{Name: "Database", Value: check(dbErr, fmt.Sprintf("answered in %s", dbTook.Round(time.Millisecond))), Inline: true},
	}}
	if b.Temporal != nil {
		start = time.Now()
		_, err := b.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Temporal", Value: check(err, fmt.Sprintf("answered in %s", time.Since(start).Round(time.Millisecond))), Inline: true})
		if d, err := b.Temporal.DescribeTaskQueueEnhanced(ctx, client.DescribeTaskQueueEnhancedOptions{
			TaskQueue: workflows.TaskQueue, ReportStats: true, TaskQueueTypes: []client.TaskQueueType{client.TaskQueueTypeWorkflow, client.TaskQueueTypeActivity},
		}); err == nil {
			var backlog int64
			for _, v := range d.VersionsInfo {
				for _, t := range v.TypesInfo {
					if t.Stats != nil {
						backlog += t.Stats.ApproximateBacklogCount
					}
				}
			}
			e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Queue backlog", Value: fmt.Sprintf("%d tasks waiting", backlog), Inline: true})
		}
	}
	e.Fields = append(e.Fields,
		&discordgo.MessageEmbedField{Name: "Version", Value: orDash(b.Version), Inline: true},
		&discordgo.MessageEmbedField{Name: "Uptime", Value: time.Since(b.Started).Round(time.Second).String(), Inline: true})
	return c.ReplyEmbed(e)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
