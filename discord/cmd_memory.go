package discord

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

// memoryPage is how many memories one /memory browse or search answer lists.
const memoryPage = 10

// firstPage is the smallest page number /memory browse takes.
var firstPage = 1.0

// purgeWord is what /memory purge's form wants typed before it deletes anything.
const purgeWord = "PURGE"

// /memory: what the characters remember about you, and the switches that decide it. Every
// subcommand sees only the caller's own memories (those of any of their personas).
func (b *Bot) addMemoryCommands() {
	character := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "character",
		Description: "Only memories with this character (default: all)", Autocomplete: true, MaxLength: 100}
	ids := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "ids", Required: true,
		Description: "Memory ids as /memory browse shows them, separated by spaces", MaxLength: 1000}
	state := func(what string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "state", Required: true,
			Description: what, Choices: []*discordgo.ApplicationCommandOptionChoice{
				{Name: "on", Value: "on"}, {Name: "off", Value: "off"}, {Name: "status", Value: "status"}}}
	}
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	b.add(&command{
		def: &discordgo.ApplicationCommand{
			Name:        "memory",
			Description: "What the characters remember about you",
			Options: []*discordgo.ApplicationCommandOption{
				sub("search", "Find memories by their words",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "text", Required: true,
						Description: "Words to look for", MaxLength: 200}, character),
				sub("browse", "List your memories, newest first", character,
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "page", Description: "Page number", MinValue: &firstPage}),
				sub("stats", "Count your memories", character),
				sub("delete", "Delete memories (locked ones are kept)", ids),
				sub("lock", "Keep memories from being deleted, archived or merged", ids),
				sub("unlock", "Let locked memories go again", ids),
				sub("purge", "Delete all your memories (a form asks you to confirm)", character),
				sub("incognito", "Stop (or resume) writing memories of your conversations", state("Incognito: no new memories")),
				sub("fresh", "Stop (or resume) recalling memories in replies", state("Fresh: replies recall nothing")),
				sub("undo-dream", "Revert what the last dream did to your memories"),
			},
		},
		run:          b.memoryCommand,
		autocomplete: b.completeCharacter,
	})
	b.onPrefix("memory-browse", b.memoryBrowseButton)
	b.onPrefix("memory-purge", b.memoryPurgeSubmit)
}

func (b *Bot) memoryCommand(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	switch c.Sub {
	case "search":
		return b.memorySearch(ctx, c, u)
	case "browse":
		p, err := b.memoryCharacter(ctx, c)
		if err != nil {
			return err
		}
		return b.memoryBrowse(ctx, c, u, p.ID, max(intOption(c, "page"), 1)-1)
	case "stats":
		return b.memoryStats(ctx, c, u)
	case "delete", "lock", "unlock":
		return b.memoryChange(ctx, c, u)
	case "purge":
		p, err := b.memoryCharacter(ctx, c)
		if err != nil {
			return err
		}
		title := "Purge all your memories"
		if p.ID != "" {
			title = "Purge your memories with " + p.DisplayName
		}
		return c.Modal("memory-purge:"+p.ID, title, TextInput{ID: "confirm", Required: true, Max: 20,
			Label: "Type " + purgeWord + " to delete them for good", Placeholder: purgeWord})
	case "incognito", "fresh":
		return b.memoryMode(ctx, c, u)
	case "undo-dream":
		d, err := b.Store.Memories.UndoLastDream(ctx, u.ID, time.Now())
		if errors.Is(err, store.ErrNotFound) {
			return c.Reply("No dream has changed your memories; there is nothing to undo.")
		}
		if err != nil {
			return err
		}
		name := b.characterName(ctx, d.Scope.PersonalityID)
		return c.Reply(fmt.Sprintf("Undid %s's dream of %s: %d reflection(s) removed, %d merged memory(ies) restored.",
			name, d.CreatedAt.UTC().Format("2 Jan 2006"), len(d.Added), len(d.Merged)))
	}
	return Userf("Unknown subcommand %q.", c.Sub)
}

// memoryCharacter resolves the optional character option (a zero Personality for all).
func (b *Bot) memoryCharacter(ctx context.Context, c *Call) (store.Personality, error) {
	name := strings.TrimSpace(c.String("character"))
	if name == "" {
		return store.Personality{}, nil
	}
	p, err := b.Store.Personalities.Resolve(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return p, Userf("I know no character called %q. Start typing and pick one from the list.", name)
	}
	return p, err
}

func (b *Bot) characterName(ctx context.Context, id string) string {
	p, err := b.Store.Personalities.ByID(ctx, id)
	if err != nil {
		return "a character"
	}
	return p.DisplayName
}

func (b *Bot) memorySearch(ctx context.Context, c *Call, u store.User) error {
	p, err := b.memoryCharacter(ctx, c)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(c.String("text"))
	if text == "" {
		return Userf("Search for what? Give a few words.")
	}
	found, err := b.Store.Memories.FindText(ctx, u.ID, p.ID, text, memoryPage)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return c.Reply(fmt.Sprintf("No memory mentions %q.", Truncate(text, 100)))
	}
	return c.ReplyEmbed(&discordgo.MessageEmbed{Title: "Memories matching " + Truncate(text, 100),
		Description: b.memoryLines(ctx, found), Footer: &discordgo.MessageEmbedFooter{Text: "/memory delete or lock takes the ids shown"}})
}

// memoryBrowseButton turns a page: its custom id is memory-browse:<page>:<personality id>.
func (b *Bot) memoryBrowseButton(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	pageText, personalityID, ok := strings.Cut(c.Arg, ":")
	page, err := strconv.Atoi(pageText)
	if !ok || err != nil || page < 0 {
		return Userf("This button has expired; run the command again.")
	}
	return b.memoryBrowse(ctx, c, u, personalityID, page)
}

func (b *Bot) memoryBrowse(ctx context.Context, c *Call, u store.User, personalityID string, page int) error {
	p, err := b.Store.Memories.Browse(ctx, u.ID, personalityID, page*memoryPage, memoryPage)
	if err != nil {
		return err
	}
	if len(p.Memories) == 0 {
		if page > 0 && p.Total > 0 {
			return c.Reply(fmt.Sprintf("There are only %d page(s).", (p.Total+memoryPage-1)/memoryPage))
		}
		return c.Reply("The characters remember nothing about you yet.")
	}
	pages := (p.Total + memoryPage - 1) / memoryPage
	e := &discordgo.MessageEmbed{Title: "Your memories", Description: b.memoryLines(ctx, p.Memories),
		Footer: &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("Page %d of %d · %d memories · /memory delete or lock takes the ids shown", page+1, pages, p.Total)}}
	id := func(n int) string { return "memory-browse:" + strconv.Itoa(n) + ":" + personalityID }
	var buttons []discordgo.MessageComponent
	if page > 0 {
		buttons = append(buttons, discordgo.Button{Label: "◀ Newer", Style: discordgo.SecondaryButton, CustomID: id(page - 1)})
	}
	if page+1 < pages {
		buttons = append(buttons, discordgo.Button{Label: "Older ▶", Style: discordgo.SecondaryButton, CustomID: id(page + 1)})
	}
	return replyEmbedWithButtons(c, e, buttons)
}

// replyEmbedWithButtons answers ephemerally with an embed and a row of buttons.
func replyEmbedWithButtons(c *Call, e *discordgo.MessageEmbed, buttons []discordgo.MessageComponent) error {
	if len(buttons) == 0 || c.responded {
		return c.ReplyEmbed(e)
	}
	c.responded = true
	return c.b.Session.InteractionRespond(c.I, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Embeds: []*discordgo.MessageEmbed{FitEmbed(e)}, Flags: discordgo.MessageFlagsEphemeral,
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: buttons}}}})
}

// memoryLines renders memories as "`id` · character · date · 🔒" with their text below.
func (b *Bot) memoryLines(ctx context.Context, ms []store.Memory) string {
	names := map[string]string{}
	var out []string
	for _, m := range ms {
		if _, ok := names[m.PersonalityID]; !ok {
			names[m.PersonalityID] = b.characterName(ctx, m.PersonalityID)
		}
		head := fmt.Sprintf("`%s` · %s · %s", shortID(m.ID), names[m.PersonalityID], m.CreatedAt.UTC().Format("2 Jan 2006"))
		if m.Origin != store.OriginTurn && m.Origin != "" {
			head += " · " + m.Origin
		}
		if m.Locked {
			head += " · 🔒"
		}
		out = append(out, head+"\n> "+Truncate(strings.Join(strings.Fields(m.Content), " "), 300))
	}
	return strings.Join(out, "\n")
}

// shortID is the prefix of a memory id users see and type (Resolve takes it back).
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func (b *Bot) memoryStats(ctx context.Context, c *Call, u store.User) error {
	p, err := b.memoryCharacter(ctx, c)
	if err != nil {
		return err
	}
	s, err := b.Store.Memories.Stats(ctx, u.ID, p.ID)
	if err != nil {
		return err
	}
	modes, err := b.Store.Memories.Modes(ctx, u.ID)
	if err != nil {
		return err
	}
	title := "Your memories"
	if p.ID != "" {
		title += " with " + p.DisplayName
	}
	count := func(m map[string]int) string {
		var parts []string
		for _, k := range sortedKeys(m) {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, " · ")
	}
	span := "—"
	if !s.Oldest.IsZero() {
		span = s.Oldest.UTC().Format("2 Jan 2006") + " to " + s.Newest.UTC().Format("2 Jan 2006")
	}
	return c.ReplyEmbed(&discordgo.MessageEmbed{Title: title, Fields: []*discordgo.MessageEmbedField{
		{Name: "Active", Value: strconv.Itoa(s.Active), Inline: true},
		{Name: "Locked", Value: strconv.Itoa(s.Locked), Inline: true},
		{Name: "Archived", Value: strconv.Itoa(s.Archived), Inline: true},
		{Name: "Waiting for a vector", Value: strconv.Itoa(s.Pending), Inline: true},
		{Name: "Links", Value: strconv.Itoa(s.Links), Inline: true},
		{Name: "Dreams", Value: strconv.Itoa(s.Dreams), Inline: true},
		{Name: "By kind", Value: count(s.BySector)},
		{Name: "By origin", Value: count(s.ByOrigin)},
		{Name: "Span", Value: span},
		{Name: "Switches", Value: fmt.Sprintf("incognito %s · fresh %s", onOff(modes.Incognito), onOff(modes.Fresh))},
	}})
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// memoryChange is /memory delete|lock|unlock ids.
func (b *Bot) memoryChange(ctx context.Context, c *Call, u store.User) error {
	refs := strings.FieldsFunc(c.String("ids"), func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '`' })
	if len(refs) == 0 {
		return Userf("Which memories? Give their ids as /memory browse shows them.")
	}
	if len(refs) > 50 {
		return Userf("At most 50 memories at once.")
	}
	ids, unknown, err := b.Store.Memories.Resolve(ctx, u.ID, refs)
	if err != nil {
		return err
	}
	var msg string
	switch c.Sub {
	case "delete":
		deleted, locked := 0, 0
		if len(ids) > 0 {
			if deleted, locked, err = b.Store.Memories.DeleteOwned(ctx, u.ID, ids); err != nil {
				return err
			}
		}
		msg = fmt.Sprintf("Deleted %d memory(ies).", deleted)
		if locked > 0 {
			msg += fmt.Sprintf(" %d locked one(s) kept: `/memory unlock` them first.", locked)
		}
	default:
		n := 0
		if len(ids) > 0 {
			if n, err = b.Store.Memories.SetLocked(ctx, u.ID, ids, c.Sub == "lock"); err != nil {
				return err
			}
		}
		msg = fmt.Sprintf("%d memory(ies) %sed.", n, c.Sub)
		if c.Sub == "lock" {
			msg += " Locked memories are never deleted, archived or merged until you unlock them."
		}
	}
	if len(unknown) > 0 {
		msg += " Not found among your memories: " + Truncate(strings.Join(unknown, ", "), 500) + "."
	}
	return c.Reply(msg)
}

// memoryPurgeSubmit is the purge form: custom id memory-purge:<personality id or "">.
func (b *Bot) memoryPurgeSubmit(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	if typed := strings.TrimSpace(c.Field("confirm")); !strings.EqualFold(typed, purgeWord) {
		return Userf("Nothing was deleted: the form wants %s typed exactly, and got %q.", purgeWord, Truncate(typed, 40))
	}
	deleted, kept, err := b.Store.Memories.Purge(ctx, u.ID, c.Arg)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Purged %d memory(ies).", deleted)
	if kept > 0 {
		msg += fmt.Sprintf(" %d locked one(s) stayed.", kept)
	}
	return c.Reply(msg)
}

// memoryMode is /memory incognito|fresh on|off|status.
func (b *Bot) memoryMode(ctx context.Context, c *Call, u store.User) error {
	modes, err := b.Store.Memories.Modes(ctx, u.ID)
	if err != nil {
		return err
	}
	flag := &modes.Incognito
	if c.Sub == "fresh" {
		flag = &modes.Fresh
	}
	switch c.String("state") {
	case "on":
		*flag = true
	case "off":
		*flag = false
	case "status", "":
		return c.Reply(modeText(c.Sub, *flag, false))
	default:
		return Userf("Choose on, off or status.")
	}
	if err := b.Store.Memories.SetModes(ctx, u.ID, modes); err != nil {
		return err
	}
	return c.Reply(modeText(c.Sub, *flag, true))
}

func modeText(mode string, on, changed bool) string {
	now := "is"
	if changed {
		now = "is now"
	}
	switch {
	case mode == "incognito" && on:
		return "Incognito " + now + " **on**: your conversations write no memories (the characters still recall what they already know)."
	case mode == "incognito":
		return "Incognito " + now + " **off**: the characters remember your conversations."
	case on:
		return "Fresh " + now + " **on**: replies recall no memories (new ones are still written unless you are incognito)."
	}
	return "Fresh " + now + " **off**: replies recall what the characters remember about you."
}

// intOption returns an integer option (0 when absent or not a number).
func intOption(c *Call, name string) int {
	o, ok := c.opts[name]
	if !ok {
		return 0
	}
	switch v := o.Value.(type) {
	case float64:
		return int(v)
	case int:
		return v
	case int64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(v)
		return n
	}
	return 0
}
