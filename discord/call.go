package discord

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

// Call is one interaction being answered.
type Call struct {
	b    *Bot
	I    *discordgo.Interaction
	User *discordgo.User
	// Sub is the subcommand path ("activate", "default set"); Arg the part of a custom id
	// after its prefix.
	Sub string
	Arg string

	opts      map[string]*discordgo.ApplicationCommandInteractionDataOption
	focused   *discordgo.ApplicationCommandInteractionDataOption
	modal     map[string]string
	responded bool
	deferred  bool // answered "thinking"; the next reply edits the original
}

func (c *Call) parseOptions(data discordgo.ApplicationCommandInteractionData) {
	c.opts = map[string]*discordgo.ApplicationCommandInteractionDataOption{}
	opts := data.Options
	for len(opts) == 1 && (opts[0].Type == discordgo.ApplicationCommandOptionSubCommand || opts[0].Type == discordgo.ApplicationCommandOptionSubCommandGroup) {
		if c.Sub != "" {
			c.Sub += " "
		}
		c.Sub += opts[0].Name
		opts = opts[0].Options
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		c.opts[o.Name] = o
		if o.Focused {
			c.focused = o
		}
	}
}

// String returns a string option ("" when absent or of another type).
func (c *Call) String(name string) string {
	if o, ok := c.opts[name]; ok {
		if s, ok := o.Value.(string); ok {
			return s
		}
	}
	return ""
}

// Bool returns a boolean option (false when absent).
func (c *Call) Bool(name string) bool {
	if o, ok := c.opts[name]; ok {
		v, _ := o.Value.(bool)
		return v
	}
	return false
}

// Attachment returns the file a user attached to an attachment option; hint is the
// user error when there is none.
func (c *Call) Attachment(name, hint string) (*discordgo.MessageAttachment, error) {
	data, ok := c.I.Data.(discordgo.ApplicationCommandInteractionData)
	id := c.String(name)
	if !ok || data.Resolved == nil || id == "" || data.Resolved.Attachments[id] == nil {
		return nil, Userf("%s", hint)
	}
	return data.Resolved.Attachments[id], nil
}

// Field returns a modal text input's value.
func (c *Call) Field(id string) string { return c.modal[id] }

// GuildID is the guild the interaction came from ("" in DMs).
func (c *Call) GuildID() string { return c.I.GuildID }

// Can reports whether the member holds a permission (Administrator holds all). Outside
// a guild nobody can manage anything.
func (c *Call) Can(perm int64) bool {
	if c.I.Member == nil {
		return false
	}
	p := c.I.Member.Permissions
	return p&discordgo.PermissionAdministrator != 0 || p&perm != 0
}

// Reply answers ephemerally (a followup if the interaction was already answered).
func (c *Call) Reply(content string) error {
	return c.respond(&discordgo.InteractionResponseData{Content: Truncate(content, MaxMessageLength), Flags: discordgo.MessageFlagsEphemeral})
}

// ReplyEmbed answers ephemerally with an embed.
func (c *Call) ReplyEmbed(e *discordgo.MessageEmbed) error {
	return c.respond(&discordgo.InteractionResponseData{Embeds: []*discordgo.MessageEmbed{FitEmbed(e)}, Flags: discordgo.MessageFlagsEphemeral})
}

// Defer acknowledges now (Discord's 3 seconds) and shows "thinking"; the next Reply
// fills the answer in, ephemerally.
func (c *Call) Defer() error {
	if c.responded {
		return nil
	}
	c.responded, c.deferred = true, true
	return c.b.Session.InteractionRespond(c.I, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
	})
}

func (c *Call) respond(data *discordgo.InteractionResponseData) error {
	if c.deferred {
		c.deferred = false
		_, err := c.b.Session.InteractionResponseEdit(c.I, &discordgo.WebhookEdit{Content: &data.Content, Embeds: &data.Embeds})
		return err
	}
	if c.responded {
		_, err := c.b.Session.FollowupMessageCreate(c.I, true, &discordgo.WebhookParams{Content: data.Content, Embeds: data.Embeds, Flags: data.Flags})
		return err
	}
	c.responded = true
	return c.b.Session.InteractionRespond(c.I, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data})
}

// TextInput describes one field of a modal.
type TextInput struct {
	ID, Label, Value, Placeholder string
	Long, Required                bool
	Max                           int // at most 4000 (Discord's limit)
}

// Modal opens a form; its submission is routed by customID's prefix.
func (c *Call) Modal(customID, title string, inputs ...TextInput) error {
	var rows []discordgo.MessageComponent
	for _, in := range inputs {
		style := discordgo.TextInputShort
		if in.Long {
			style = discordgo.TextInputParagraph
		}
		max := in.Max
		if max <= 0 || max > MaxModalInputLength {
			max = MaxModalInputLength
		}
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{
			CustomID: in.ID, Label: Truncate(in.Label, 45), Style: style, Value: Truncate(in.Value, max),
			Placeholder: Truncate(in.Placeholder, 100), Required: in.Required, MaxLength: max,
		}}})
	}
	c.responded = true
	return c.b.Session.InteractionRespond(c.I, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{CustomID: customID, Title: Truncate(title, 45), Components: rows},
	})
}

// user returns the caller as a Tzurot user, creating them on first contact.
func (c *Call) user(ctx context.Context) (store.User, error) {
	name := c.User.GlobalName
	if name == "" {
		name = c.User.Username
	}
	return c.b.Store.Users.Ensure(ctx, c.User.ID, c.User.Username, name)
}

func modalValues(data discordgo.ModalSubmitInteractionData) map[string]string {
	out := map[string]string{}
	for _, row := range data.Components {
		var comps []discordgo.MessageComponent
		switch r := row.(type) {
		case *discordgo.ActionsRow:
			comps = r.Components
		case discordgo.ActionsRow:
			comps = r.Components
		}
		for _, comp := range comps {
			switch t := comp.(type) {
			case *discordgo.TextInput:
				out[t.CustomID] = t.Value
			case discordgo.TextInput:
				out[t.CustomID] = t.Value
			}
		}
	}
	return out
}
