package discord

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

// /history clear|undo: a soft reset of what a character sees of your conversation. The
// lines stay stored; the character's context of you simply starts at the cutoff, and
// undo moves it back. Long-term memories are /memory's business.
func (b *Bot) addHistoryCommands() {
	b.add(&command{
		def: &discordgo.ApplicationCommand{
			Name:        "history",
			Description: "Start a conversation with a character afresh",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "clear",
					Description: "The character forgets your conversation so far (memories stay)",
					Options:     []*discordgo.ApplicationCommandOption{characterOption("Which character")}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "undo",
					Description: "Bring back the conversation the last clear hid",
					Options:     []*discordgo.ApplicationCommandOption{characterOption("Which character")}},
			},
		},
		run:          b.historyCommand,
		autocomplete: b.completeCharacter,
	})
}

func (b *Bot) historyCommand(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	p, err := b.Store.Personalities.Resolve(ctx, c.String("character"))
	if errors.Is(err, store.ErrNotFound) {
		return Userf("I know no character called %q. Start typing and pick one from the list.", c.String("character"))
	}
	if err != nil {
		return err
	}
	switch c.Sub {
	case "clear":
		if err := b.Store.History.SetCutoff(ctx, u.ID, p.ID, time.Now()); err != nil {
			return err
		}
		return c.Reply(fmt.Sprintf("%s starts afresh with you: your conversation so far is out of their context "+
			"(their long-term memories stay; `/memory` manages those). `/history undo` brings it back.", p.DisplayName))
	case "undo":
		restored, ok, err := b.Store.History.UndoCutoff(ctx, u.ID, p.ID)
		if err != nil {
			return err
		}
		if !ok {
			return c.Reply(fmt.Sprintf("There is no clear to undo with %s.", p.DisplayName))
		}
		if restored.IsZero() {
			return c.Reply(fmt.Sprintf("%s sees your whole conversation again.", p.DisplayName))
		}
		return c.Reply(fmt.Sprintf("%s sees your conversation again from the clear before (%s UTC).", p.DisplayName,
			restored.UTC().Format("2 Jan 2006 15:04")))
	}
	return Userf("Unknown subcommand %q.", c.Sub)
}
