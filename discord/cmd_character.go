package discord

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities/cards"
	"github.com/tzurot/tzurot/store"
)

// /character: characters belong to their users. Every answer is ephemeral, every option
// naming a character autocompletes, and every change checks that the caller owns the
// character (or is one of the bot's operators). Long card fields are edited through
// modals, split over several boxes when they outgrow one; views cut them short and
// offer the whole card as a file.

// writeSubs are the subcommands that change a character: only its owner may run them,
// so their autocomplete offers only the caller's own characters.
var writeSubs = map[string]bool{
	"edit": true, "delete": true, "export": true, "avatar set": true, "avatar clear": true,
	"visibility public": true, "visibility private": true, "nsfw on": true, "nsfw off": true,
}

func (b *Bot) addCharacterCommands() {
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	group := func(name, desc string, subs ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: name, Description: desc, Options: subs}
	}
	file := func(name, desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionAttachment, Name: name, Description: desc, Required: true}
	}
	own, visible := characterOption("One of your characters"), characterOption("The character")
	var sections []*discordgo.ApplicationCommandOptionChoice
	for _, s := range cardSections {
		sections = append(sections, &discordgo.ApplicationCommandOptionChoice{Name: s.title, Value: s.id})
	}
	alias := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "alias",
		Description: "Another name the character answers to", Required: true, MaxLength: maxAliasLength}
	global := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "global",
		Description: "For everyone (owner only); otherwise the alias works for you alone"}
	b.add(&command{
		def: &discordgo.ApplicationCommand{
			Name: "character", Description: "Create, edit, share, import and export your characters",
			Options: []*discordgo.ApplicationCommandOption{
				sub("create", "Create a character (a form opens)"),
				sub("edit", "Edit one of your characters, a section at a time", own,
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "section",
						Description: "Which part of the card", Required: true, Choices: sections}),
				sub("view", "Show a character's card", visible),
				sub("browse", "List the characters you can talk to",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "owner", Description: "Only this user's characters"},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "tag", Description: "Only characters with this card tag", MaxLength: maxTagFilter},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "mine", Description: "Only your own characters"}),
				sub("delete", "Delete one of your characters with its memories and history", own),
				sub("import", "Bring a character in: a card (PNG, CHARX, JSON) or a shapes.inc backup",
					file("file", "A character card or a shapes.inc backup (zip or JSON)")),
				sub("export", "Get one of your characters as a card file", own,
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "format", Description: "PNG card (default) or JSON",
						Choices: []*discordgo.ApplicationCommandOptionChoice{{Name: "PNG card (V3)", Value: "png"}, {Name: "JSON (V3)", Value: "json"}}}),
				group("avatar", "The picture a character speaks with",
					sub("set", "Upload a picture for one of your characters", own, file("image", "A PNG, JPEG, GIF or WebP picture, at most 8 MB")),
					sub("clear", "Remove a character's picture", own)),
				group("alias", "Other names a character answers to",
					sub("add", "Add an alias (yours alone, or global for your own character)", visible, alias, global),
					sub("remove", "Remove an alias", visible, alias, global),
					sub("browse", "List a character's aliases", visible)),
				group("visibility", "Who can find and talk to a character",
					sub("public", "Everyone can find and talk to it", own), sub("private", "Only you can", own)),
				group("nsfw", "Mark a character as meant for adults",
					sub("on", "Mark it as meant for adults", own), sub("off", "Suitable anywhere", own)),
			},
		},
		run:          b.characterCommand,
		autocomplete: b.completeOwnedOrVisible,
	})
	b.onPrefix("char-create", b.characterCreateSubmit)
	b.onPrefix("char-edit", b.characterEditSubmit)
	b.onPrefix("char-field", b.characterFieldButton)
	b.onPrefix("char-editf", b.characterFieldSubmit)
	b.onPrefix("char-full", b.characterFullButton)
	b.onPrefix("char-delete", b.characterDeleteSubmit)
	b.onPrefix("char-browse", b.characterBrowseButton)
}

func (b *Bot) characterCommand(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	switch c.Sub {
	case "create":
		return c.Modal("char-create", "New character", createForm()...)
	case "edit":
		return b.characterEdit(ctx, c, u)
	case "view":
		return b.characterView(ctx, c, u)
	case "browse":
		return b.characterBrowse(ctx, c, u)
	case "delete":
		p, err := b.findCharacter(ctx, c, u, true)
		if err != nil {
			return err
		}
		return c.Modal("char-delete:"+p.ID, "Delete "+p.DisplayName, TextInput{ID: "confirm", Required: true, Max: 100,
			Label: "Type its slug to delete it and its memories", Placeholder: p.Slug})
	case "import":
		return b.characterImport(ctx, c, u)
	case "export":
		return b.characterExport(ctx, c, u)
	case "avatar set":
		return b.characterAvatarSet(ctx, c, u)
	case "avatar clear":
		return b.characterAvatarClear(ctx, c, u)
	case "alias add", "alias remove", "alias browse":
		return b.characterAlias(ctx, c, u)
	case "visibility public", "visibility private", "nsfw on", "nsfw off":
		return b.characterFlag(ctx, c, u)
	}
	return Userf("Unknown subcommand %q.", c.Sub)
}

// mayEdit: a character is changed by its owner and by the bot's operators.
func (b *Bot) mayEdit(c *Call, u store.User, p store.Personality) bool {
	return b.Superusers[c.User.ID] || (p.OwnerID != "" && p.OwnerID == u.ID)
}

// findCharacter resolves the character option among those the caller may see; mustOwn
// also requires that they may change it.
func (b *Bot) findCharacter(ctx context.Context, c *Call, u store.User, mustOwn bool) (store.Personality, error) {
	typed := c.String("character")
	p, err := b.Store.Characters.Find(ctx, typed, u.ID, b.Superusers[c.User.ID])
	if errors.Is(err, store.ErrNotFound) {
		return p, Userf("I know no character called %q. Start typing and pick one from the list.", Truncate(typed, 100))
	}
	if err != nil {
		return p, err
	}
	if mustOwn && !b.mayEdit(c, u, p) {
		return p, Userf("**%s** is not yours: only its owner (and the bot's operators) can change it.", p.DisplayName)
	}
	return p, nil
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// characterByID loads the character a button or form names; mustOwn as findCharacter.
// A private character of someone else does not exist for the caller.
func (b *Bot) characterByID(ctx context.Context, c *Call, u store.User, id string, mustOwn bool) (store.Personality, error) {
	gone := Userf("That character no longer exists, or it is not yours to change.")
	if !uuidPattern.MatchString(id) {
		return store.Personality{}, gone
	}
	p, err := b.Store.Personalities.ByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (mustOwn || !p.IsPublic) && !b.mayEdit(c, u, p)) {
		return p, gone
	}
	return p, err
}

// completeOwnedOrVisible offers, for the character option, the caller's own characters
// where the subcommand changes one, else every character they may see.
func (b *Bot) completeOwnedOrVisible(ctx context.Context, c *Call, focused *discordgo.ApplicationCommandInteractionDataOption) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	if focused.Name != "character" {
		return nil, nil
	}
	viewer := ""
	if u, err := b.Store.Users.ByDiscordID(ctx, c.User.ID); err == nil { // no user row for a keystroke
		viewer = u.ID
	}
	typed, _ := focused.Value.(string)
	ps, err := b.Store.Characters.Search(ctx, typed, viewer, writeSubs[c.Sub], b.Superusers[c.User.ID], 25)
	if err != nil {
		return nil, err
	}
	out := make([]*discordgo.ApplicationCommandOptionChoice, 0, len(ps))
	for _, p := range ps {
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: Truncate(p.DisplayName+" ("+p.Slug+")", 100), Value: p.Slug})
	}
	return out, nil
}

func createForm() []TextInput {
	return []TextInput{
		{ID: "name", Label: "Name", Required: true, Max: 100, Placeholder: "e.g. Lilith"},
		{ID: "character_info", Label: "Who they are", Long: true, Placeholder: "Background, situation, what matters to them"},
		{ID: "personality_traits", Label: "Personality traits", Long: true},
		{ID: "conversational_examples", Label: "Example dialogue", Long: true, Placeholder: "{{user}}: Hi!\n{{char}}: ..."},
		{ID: "system_prompt", Label: "System prompt", Long: true},
	}
}

func (b *Bot) characterCreateSubmit(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.Field("name"))
	p := store.Personality{Name: name, DisplayName: name, Slug: cards.Slugify(name), OwnerID: u.ID,
		CharacterInfo: strings.TrimSpace(c.Field("character_info")), Traits: strings.TrimSpace(c.Field("personality_traits")),
		ConversationalExamples: strings.TrimSpace(c.Field("conversational_examples")), SystemPrompt: strings.TrimSpace(c.Field("system_prompt"))}
	created, err := b.Store.Characters.Create(ctx, store.NewCharacter{Personality: p})
	if errors.Is(err, store.ErrInvalid) {
		return Userf("Nothing created: %s.", strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	}
	if err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("Created **%s** (`%s`). It is private: only you can talk to it until `/character visibility public`. "+
		"`/character edit` fills in the rest of the card; `/character avatar set` gives it a face.", created.Personality.DisplayName, created.Personality.Slug))
}

func (b *Bot) characterFlag(ctx context.Context, c *Call, u store.User) error {
	p, err := b.findCharacter(ctx, c, u, true)
	if err != nil {
		return err
	}
	var msg string
	switch c.Sub {
	case "visibility public":
		err, msg = b.Store.Characters.SetPublic(ctx, p.ID, true), "**%s** is public: everyone can find and talk to it."
	case "visibility private":
		err, msg = b.Store.Characters.SetPublic(ctx, p.ID, false), "**%s** is private: only you can talk to it."
	case "nsfw on":
		err, msg = b.Store.Characters.SetNSFW(ctx, p.ID, true), "**%s** is marked NSFW: meant for adults only."
	default:
		err, msg = b.Store.Characters.SetNSFW(ctx, p.ID, false), "**%s** is no longer marked NSFW."
	}
	if err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf(msg, p.DisplayName))
}

func (b *Bot) characterDeleteSubmit(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	p, err := b.characterByID(ctx, c, u, c.Arg, true)
	if err != nil {
		return err
	}
	if typed := strings.TrimSpace(c.Field("confirm")); !strings.EqualFold(typed, p.Slug) {
		return Userf("Nothing deleted: you typed %q, not the character's slug `%s`.", Truncate(typed, 100), p.Slug)
	}
	d, err := b.Store.Characters.Delete(ctx, p.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Userf("That character no longer exists.")
	}
	if err != nil {
		return err
	}
	b.Activations.Invalidate()
	return c.Reply(fmt.Sprintf("Deleted **%s**, with %d memories and %d lines of conversation history.", p.DisplayName, d.Memories, d.History))
}

// sendRich answers ephemerally with whatever the data holds (embeds, buttons, files):
// the interaction's first answer, or a followup once it was answered or deferred (the
// first followup after a deferral replaces the "thinking" message).
func sendRich(c *Call, d *discordgo.InteractionResponseData) error {
	d.Flags |= discordgo.MessageFlagsEphemeral
	for i, e := range d.Embeds {
		d.Embeds[i] = FitEmbed(e)
	}
	d.Content = Truncate(d.Content, MaxMessageLength)
	if c.responded {
		c.deferred = false
		_, err := c.b.Session.FollowupMessageCreate(c.I, true, &discordgo.WebhookParams{Content: d.Content, Embeds: d.Embeds,
			Components: d.Components, Files: d.Files, Flags: d.Flags})
		return err
	}
	c.responded = true
	return c.b.Session.InteractionRespond(c.I, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: d})
}
