package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

// Limits of /character beyond Discord's own.
const (
	maxAliasLength = 50
	maxTagFilter   = 40
	// maxFormParts is how many text boxes one long field may span in a modal (Discord
	// allows five inputs per modal): 20,000 characters.
	maxFormParts = 5
	// viewBudget keeps a character's embed under Discord's 6,000 characters with room
	// for the footer.
	viewBudget = 5700
)

// cardField is one editable column of a character.
type cardField struct {
	id, label string
	long      bool
	max       int // characters; 0: as much as a text box holds
	get       func(p *store.Personality) *string
}

var cardFields = []cardField{
	{"name", "Name", false, 100, func(p *store.Personality) *string { return &p.Name }},
	{"display_name", "Display name (shown on its replies)", false, 100, func(p *store.Personality) *string { return &p.DisplayName }},
	{"character_info", "Who they are", true, 0, func(p *store.Personality) *string { return &p.CharacterInfo }},
	{"personality_age", "Age", false, 100, func(p *store.Personality) *string { return &p.Age }},
	{"birthday", "Birthday (MM-DD or YYYY-MM-DD)", false, 10, func(p *store.Personality) *string { return &p.Birthday }},
	{"personality_traits", "Personality traits", true, 0, func(p *store.Personality) *string { return &p.Traits }},
	{"personality_tone", "Tone", true, 0, func(p *store.Personality) *string { return &p.Tone }},
	{"personality_appearance", "Appearance", true, 0, func(p *store.Personality) *string { return &p.Appearance }},
	{"personality_likes", "Likes", true, 0, func(p *store.Personality) *string { return &p.Likes }},
	{"personality_dislikes", "Dislikes", true, 0, func(p *store.Personality) *string { return &p.Dislikes }},
	{"conversational_examples", "Example dialogue", true, 0, func(p *store.Personality) *string { return &p.ConversationalExamples }},
	{"conversational_goals", "Conversational goals", true, 0, func(p *store.Personality) *string { return &p.ConversationalGoals }},
	{"error_message", "Error message (when a reply fails)", true, 0, func(p *store.Personality) *string { return &p.ErrorMessage }},
	{"system_prompt", "System prompt", true, 0, func(p *store.Personality) *string { return &p.SystemPrompt }},
}

func fieldByID(id string) (cardField, bool) {
	for _, f := range cardFields {
		if f.id == id {
			return f, true
		}
	}
	return cardField{}, false
}

// cardSections are what /character edit opens one modal for (five boxes at most).
var cardSections = []struct {
	id, title string
	fields    []string
}{
	{"identity", "Identity", []string{"name", "display_name", "character_info", "personality_age", "birthday"}},
	{"personality", "Personality", []string{"personality_traits", "personality_tone", "personality_appearance", "personality_likes", "personality_dislikes"}},
	{"examples", "Examples", []string{"conversational_examples", "conversational_goals"}},
	{"error", "Error message", []string{"error_message"}},
	{"prompt", "System prompt", []string{"system_prompt"}},
}

func sectionFields(id string) ([]cardField, string, bool) {
	for _, s := range cardSections {
		if s.id == id {
			var out []cardField
			for _, f := range s.fields {
				cf, _ := fieldByID(f)
				out = append(out, cf)
			}
			return out, s.title, true
		}
	}
	return nil, "", false
}

// characterEdit opens the section's modal, or, when a field of it is longer than one
// text box holds, offers a button per field: each opens that field alone, split over as
// many boxes as it needs.
func (b *Bot) characterEdit(ctx context.Context, c *Call, u store.User) error {
	p, err := b.findCharacter(ctx, c, u, true)
	if err != nil {
		return err
	}
	fields, title, ok := sectionFields(c.String("section"))
	if !ok {
		return Userf("Unknown section %q.", c.String("section"))
	}
	var inputs []TextInput
	var row []discordgo.MessageComponent
	tooLong := false
	for _, f := range fields {
		v := *f.get(&p)
		tooLong = tooLong || length(v) > MaxModalInputLength
		inputs = append(inputs, TextInput{ID: f.id, Label: f.label, Value: v, Long: f.long, Max: f.max, Required: f.id == "name"})
		row = append(row, discordgo.Button{Label: Truncate(f.label, 80), Style: discordgo.SecondaryButton, CustomID: "char-field:" + p.ID + ":" + f.id})
	}
	if !tooLong {
		return c.Modal("char-edit:"+p.ID+":"+c.String("section"), Truncate(title+": "+p.DisplayName, 45), inputs...)
	}
	return sendRich(c, &discordgo.InteractionResponseData{
		Content:    fmt.Sprintf("A field of **%s**'s %s is longer than one form box holds (%d characters). Edit the fields one at a time:", p.DisplayName, strings.ToLower(title), MaxModalInputLength),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: row}},
	})
}

func (b *Bot) characterEditSubmit(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	id, section, _ := strings.Cut(c.Arg, ":")
	p, err := b.characterByID(ctx, c, u, id, true)
	if err != nil {
		return err
	}
	fields, title, ok := sectionFields(section)
	if !ok {
		return Userf("This form has expired; run the command again.")
	}
	for _, f := range fields {
		*f.get(&p) = strings.TrimSpace(c.Field(f.id))
	}
	return b.saveCharacter(ctx, c, p, strings.ToLower(title))
}

// fieldTarget reads a "character id:field id" custom-id argument: the character (which
// the caller must own) and the field. what names the expired thing in the user error.
func (b *Bot) fieldTarget(ctx context.Context, c *Call, what string) (store.Personality, cardField, error) {
	u, err := c.user(ctx)
	if err != nil {
		return store.Personality{}, cardField{}, err
	}
	id, fieldID, _ := strings.Cut(c.Arg, ":")
	p, err := b.characterByID(ctx, c, u, id, true)
	if err != nil {
		return store.Personality{}, cardField{}, err
	}
	f, ok := fieldByID(fieldID)
	if !ok {
		return store.Personality{}, cardField{}, Userf("This %s has expired; run the command again.", what)
	}
	return p, f, nil
}

// characterFieldButton opens one long field in a modal of up to five boxes.
func (b *Bot) characterFieldButton(ctx context.Context, c *Call) error {
	p, f, err := b.fieldTarget(ctx, c, "button")
	if err != nil {
		return err
	}
	parts := splitText(*f.get(&p), MaxModalInputLength)
	if len(parts) > maxFormParts {
		return Userf("%s is %d characters long, more than a form holds (%d). Export the character, edit the card elsewhere and import it.",
			f.label, length(*f.get(&p)), maxFormParts*MaxModalInputLength)
	}
	if len(parts) == 0 {
		parts = append(parts, "")
	}
	if f.long && len(parts) < maxFormParts {
		parts = append(parts, "") // room to grow
	}
	inputs := make([]TextInput, len(parts))
	for i, part := range parts {
		label := f.label
		if len(parts) > 1 {
			label = fmt.Sprintf("%s (part %d of %d)", f.label, i+1, len(parts))
		}
		inputs[i] = TextInput{ID: fmt.Sprintf("part%d", i+1), Label: label, Value: part, Long: f.long, Max: f.max, Required: f.id == "name" && i == 0}
	}
	return c.Modal("char-editf:"+p.ID+":"+f.id, Truncate(p.DisplayName+": "+f.label, 45), inputs...)
}

func (b *Bot) characterFieldSubmit(ctx context.Context, c *Call) error {
	p, f, err := b.fieldTarget(ctx, c, "form")
	if err != nil {
		return err
	}
	var v strings.Builder
	for i := 1; i <= maxFormParts; i++ {
		v.WriteString(c.Field(fmt.Sprintf("part%d", i)))
	}
	*f.get(&p) = strings.TrimSpace(v.String())
	return b.saveCharacter(ctx, c, p, strings.ToLower(f.label))
}

func (b *Bot) saveCharacter(ctx context.Context, c *Call, p store.Personality, what string) error {
	saved, err := b.Store.Characters.Update(ctx, p)
	if errors.Is(err, store.ErrInvalid) {
		return Userf("Nothing saved: %s.", strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	}
	if errors.Is(err, store.ErrNotFound) {
		return Userf("That character no longer exists.")
	}
	if err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("Saved the %s of **%s**.", what, saved.DisplayName))
}

// splitText cuts s into pieces of at most limit Discord characters, between lines where
// it can. Joined again they give s exactly.
func splitText(s string, limit int) []string {
	var out []string
	for length(s) > limit {
		cut, n, lastLine := 0, 0, -1
		for i, r := range s {
			w := max(utf16.RuneLen(r), 1)
			if n+w > limit {
				cut = i
				break
			}
			n += w
			if r == '\n' {
				lastLine = i + 1
			}
		}
		if lastLine > cut/2 {
			cut = lastLine
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// characterView shows the card as an embed. Fields are cut to fit Discord's limits; when
// anything was cut, a button sends the whole card as a file. The system prompt is shown
// to the owner only.
func (b *Bot) characterView(ctx context.Context, c *Call, u store.User) error {
	p, err := b.findCharacter(ctx, c, u, false)
	if err != nil {
		return err
	}
	full := b.mayEdit(c, u, p)
	aliases, err := b.Store.Characters.Aliases(ctx, p.ID, u.ID)
	if err != nil {
		return err
	}
	owner, err := b.Store.Characters.OwnerDiscordID(ctx, p.ID)
	if err != nil {
		return err
	}
	e, cut := characterEmbed(p, aliases, owner, full)
	d := &discordgo.InteractionResponseData{Embeds: []*discordgo.MessageEmbed{e}}
	if cut {
		d.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "The whole card as a file", Style: discordgo.SecondaryButton, CustomID: "char-full:" + p.ID}}}}
	}
	return sendRich(c, d)
}

// viewFields are the long fields a view shows, in order, after the description.
var viewFields = []string{"personality_traits", "personality_tone", "personality_appearance", "personality_likes",
	"personality_dislikes", "conversational_goals", "conversational_examples", "error_message", "system_prompt"}

// characterEmbed builds the view. Long fields share what is left of Discord's 6,000
// characters: the cap per field drops until everything fits. cut says something was
// shortened.
func characterEmbed(p store.Personality, aliases []store.Alias, ownerDiscordID string, full bool) (*discordgo.MessageEmbed, bool) {
	var names []string
	for _, a := range aliases {
		if a.Personal {
			names = append(names, a.Alias+" (yours)")
		} else {
			names = append(names, a.Alias)
		}
	}
	facts := []*discordgo.MessageEmbedField{
		{Name: "Owner", Value: mentionOr(ownerDiscordID, "the bot"), Inline: true},
		{Name: "Visibility", Value: map[bool]string{true: "public", false: "private"}[p.IsPublic], Inline: true},
		{Name: "NSFW", Value: map[bool]string{true: "yes", false: "no"}[p.IsNSFW], Inline: true},
	}
	for _, f := range []struct{ name, v string }{{"Age", p.Age}, {"Birthday", p.Birthday}, {"Aliases", strings.Join(names, ", ")}} {
		if f.v != "" {
			facts = append(facts, &discordgo.MessageEmbedField{Name: f.name, Value: f.v, Inline: true})
		}
	}
	footer := "/character export gives the whole card as a file."
	if !full && p.SystemPrompt != "" {
		footer = "Only the owner sees the system prompt."
	}
	for limit := MaxEmbedFieldValue; ; limit -= 64 {
		e := &discordgo.MessageEmbed{Title: Truncate(p.DisplayName+" ("+p.Slug+")", MaxEmbedTitle),
			Description: Truncate(p.CharacterInfo, min(MaxEmbedDescription, 2*limit)), Fields: append([]*discordgo.MessageEmbedField{}, facts...),
			Footer: &discordgo.MessageEmbedFooter{Text: footer}}
		cut := length(p.CharacterInfo) > min(MaxEmbedDescription, 2*limit)
		for _, id := range viewFields {
			f, _ := fieldByID(id)
			v := *f.get(&p)
			if v == "" || (id == "system_prompt" && !full) {
				continue
			}
			cut = cut || length(v) > limit
			e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: f.label, Value: Truncate(v, limit)})
		}
		if embedLength(e) <= viewBudget || limit <= 64 {
			if cut {
				e.Footer.Text = "Cut short to fit Discord: the button sends the whole card as a file."
			}
			if avatar := p.AvatarURL; avatar != "" {
				e.Thumbnail = &discordgo.MessageEmbedThumbnail{URL: avatar}
			}
			return e, cut
		}
	}
}

func mentionOr(discordID, otherwise string) string {
	if discordID == "" {
		return otherwise
	}
	return "<@" + discordID + ">"
}

// characterFullButton sends every field of the card, whole, as a Markdown file.
func (b *Bot) characterFullButton(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	p, err := b.characterByID(ctx, c, u, c.Arg, false)
	if err != nil {
		return err
	}
	full := b.mayEdit(c, u, p)
	var md bytes.Buffer
	fmt.Fprintf(&md, "# %s (%s)\n", p.DisplayName, p.Slug)
	for _, f := range cardFields {
		v := *f.get(&p)
		if v == "" || (f.id == "system_prompt" && !full) {
			continue
		}
		fmt.Fprintf(&md, "\n## %s\n\n%s\n", f.label, v)
	}
	return sendRich(c, &discordgo.InteractionResponseData{Content: "The whole card of **" + p.DisplayName + "**:",
		Files: []*discordgo.File{{Name: p.Slug + ".md", ContentType: "text/markdown", Reader: bytes.NewReader(md.Bytes())}}})
}
