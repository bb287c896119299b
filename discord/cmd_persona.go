package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

// Persona field limits: they go into every prompt, so they stay short.
const (
	maxPersonaName        = 50
	maxPersonaPronouns    = 40
	maxPersonaDescription = 1500
)

// /persona create|edit|view|default: who the user is to the characters.
func (b *Bot) addPersonaCommands() {
	personaOpt := func(required bool) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "persona",
			Description: "Which of your personas", Required: required, Autocomplete: true, MaxLength: maxPersonaName}
	}
	b.add(&command{
		def: &discordgo.ApplicationCommand{
			Name:        "persona",
			Description: "Tell the characters who you are",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "create", Description: "Create a persona (a form opens)"},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "edit", Description: "Edit one of your personas",
					Options: []*discordgo.ApplicationCommandOption{personaOpt(false)}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "view", Description: "Show your personas",
					Options: []*discordgo.ApplicationCommandOption{personaOpt(false)}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "default", Description: "Speak as this persona from now on",
					Options: []*discordgo.ApplicationCommandOption{personaOpt(true)}},
			},
		},
		run:          b.personaCommand,
		autocomplete: b.completePersona,
	})
	b.onPrefix("persona-create", b.personaCreateSubmit)
	b.onPrefix("persona-edit", b.personaEditSubmit)
}

func personaForm(p store.Persona, withName bool) []TextInput {
	var in []TextInput
	if withName {
		in = append(in, TextInput{ID: "name", Label: "Persona name (your label for it)", Value: p.Name, Required: true, Max: maxPersonaName, Placeholder: "e.g. main, work, dnd"})
	}
	return append(in,
		TextInput{ID: "preferred_name", Label: "What should characters call you?", Value: p.PreferredName, Required: true, Max: maxPersonaName},
		TextInput{ID: "pronouns", Label: "Pronouns", Value: p.Pronouns, Max: maxPersonaPronouns, Placeholder: "e.g. she/her"},
		TextInput{ID: "description", Label: "About you", Value: p.Description, Long: true, Max: maxPersonaDescription,
			Placeholder: "What the characters should know about you"},
	)
}

func (b *Bot) personaCommand(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	switch c.Sub {
	case "create":
		return c.Modal("persona-create", "New persona", personaForm(store.Persona{}, true)...)
	case "edit":
		p, err := b.persona(ctx, u, c.String("persona"))
		if err != nil {
			return err
		}
		return c.Modal("persona-edit:"+p.ID, "Edit persona "+p.Name, personaForm(p, false)...)
	case "view":
		return b.personaView(ctx, c, u)
	case "default":
		p, err := b.persona(ctx, u, c.String("persona"))
		if err != nil {
			return err
		}
		if err := b.Store.Personas.SetDefault(ctx, u.ID, p.ID); err != nil {
			return err
		}
		return c.Reply(fmt.Sprintf("From now on the characters know you as **%s**.", p.PreferredName))
	}
	return Userf("Unknown subcommand %q.", c.Sub)
}

// persona finds one of the user's personas by name; empty means their default.
func (b *Bot) persona(ctx context.Context, u store.User, name string) (store.Persona, error) {
	var p store.Persona
	var err error
	if strings.TrimSpace(name) == "" {
		p, err = b.Store.Personas.ByID(ctx, u.DefaultPersonaID)
	} else {
		p, err = b.Store.Personas.ByName(ctx, u.ID, name)
	}
	if errors.Is(err, store.ErrNotFound) {
		return p, Userf("You have no persona called %q. `/persona view` lists yours.", name)
	}
	return p, err
}

func (b *Bot) personaView(ctx context.Context, c *Call, u store.User) error {
	var list []store.Persona
	if name := c.String("persona"); name != "" {
		p, err := b.persona(ctx, u, name)
		if err != nil {
			return err
		}
		list = []store.Persona{p}
	} else {
		var err error
		if list, err = b.Store.Personas.List(ctx, u.ID); err != nil {
			return err
		}
	}
	e := &discordgo.MessageEmbed{Title: "Your personas"}
	for _, p := range list {
		title := p.Name
		if p.IsDefault {
			title += " (default)"
		}
		value := "**Name:** " + p.PreferredName
		if p.Pronouns != "" {
			value += "\n**Pronouns:** " + p.Pronouns
		}
		if p.Description != "" {
			value += "\n" + p.Description
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: title, Value: value})
	}
	return c.ReplyEmbed(e)
}

func (b *Bot) personaCreateSubmit(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	p, err := validPersona(store.Persona{OwnerID: u.ID, Name: c.Field("name"), PreferredName: c.Field("preferred_name"),
		Pronouns: c.Field("pronouns"), Description: c.Field("description")})
	if err != nil {
		return err
	}
	created, err := b.Store.Personas.Create(ctx, p)
	if errors.Is(err, store.ErrDuplicate) {
		return Userf("You already have a persona called %q; `/persona edit` changes it.", p.Name)
	}
	if err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("Created persona **%s**. `/persona default persona:%s` makes the characters know you by it.", created.Name, created.Name))
}

func (b *Bot) personaEditSubmit(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	p, err := b.Store.Personas.ByID(ctx, c.Arg)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.OwnerID != u.ID) {
		return Userf("That persona no longer exists.")
	}
	if err != nil {
		return err
	}
	p.PreferredName, p.Pronouns, p.Description = c.Field("preferred_name"), c.Field("pronouns"), c.Field("description")
	if p, err = validPersona(p); err != nil {
		return err
	}
	if err := b.Store.Personas.Update(ctx, p); err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("Saved persona **%s**.", p.Name))
}

// validPersona trims and checks what a user typed (modals enforce lengths, but a client
// can send anything).
func validPersona(p store.Persona) (store.Persona, error) {
	p.Name, p.PreferredName = strings.TrimSpace(p.Name), strings.TrimSpace(p.PreferredName)
	p.Pronouns, p.Description = strings.TrimSpace(p.Pronouns), strings.TrimSpace(p.Description)
	switch {
	case p.Name == "" || p.PreferredName == "":
		return p, Userf("A persona needs a name and what characters should call you.")
	case length(p.Name) > maxPersonaName || length(p.PreferredName) > maxPersonaName:
		return p, Userf("Names are at most %d characters.", maxPersonaName)
	case length(p.Pronouns) > maxPersonaPronouns:
		return p, Userf("Pronouns are at most %d characters.", maxPersonaPronouns)
	case length(p.Description) > maxPersonaDescription:
		return p, Userf("The description is at most %d characters (yours has %d).", maxPersonaDescription, length(p.Description))
	}
	return p, nil
}

func (b *Bot) completePersona(ctx context.Context, c *Call, focused *discordgo.ApplicationCommandInteractionDataOption) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	u, err := c.user(ctx)
	if err != nil {
		return nil, err
	}
	list, err := b.Store.Personas.List(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	typed, _ := focused.Value.(string)
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, p := range list {
		if strings.Contains(strings.ToLower(p.Name), strings.ToLower(typed)) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: Truncate(p.Name+" — "+p.PreferredName, 100), Value: p.Name})
		}
	}
	return out, nil
}
