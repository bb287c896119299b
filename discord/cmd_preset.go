package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities/preset"
	"github.com/tzurot/tzurot/store"
)

// /preset: named sets of LLM and behaviour parameters (activities/preset's table), and
// which one applies where: the user's default, a per-character override, and (for the
// bot's operators) the global and the free-tier default. Parameters are typed into a
// modal as one `name = value` per line and checked against the table before anything is
// stored, so every mistake gets an answer naming the field and what it accepts.
func (b *Bot) addPresetCommands() {
	presetOpt := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "preset",
		Description: "Yours or a global one", Required: true, Autocomplete: true, MaxLength: preset.MaxNameLen}
	globalOpt := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "global",
		Description: "Operators only: make it a global preset everyone can use"}
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	group := func(name, desc string, subs ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: name, Description: desc, Options: subs}
	}
	b.add(&command{
		def: &discordgo.ApplicationCommand{
			Name: "preset", Description: "Model and sampling settings the characters answer you with",
			Options: []*discordgo.ApplicationCommandOption{
				sub("create", "Create a preset (a form opens)", globalOpt),
				sub("edit", "Change one of your presets (a form opens)", presetOpt),
				sub("view", "Show every setting of a preset", presetOpt),
				sub("browse", "List your presets and the global ones"),
				sub("delete", "Delete one of your presets", presetOpt),
				sub("export", "Get a preset as a JSON file", presetOpt),
				sub("import", "Create a preset from an exported JSON file",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionAttachment, Name: "file",
						Description: "A file from /preset export", Required: true}, globalOpt),
				group("default", "The preset you talk to every character with",
					sub("set", "Use this preset for every character", presetOpt), sub("clear", "Go back to the characters' own presets")),
				group("override", "A preset for one character only",
					sub("set", "Use this preset with one character", characterOption("The character"), presetOpt),
					sub("clear", "Remove your preset for one character", characterOption("The character"))),
				group("global", "Operators only: the preset everyone starts from",
					sub("set", "Make a global preset the default for everyone", presetOpt)),
				group("free", "Operators only: the preset of the free tier",
					sub("set", "Make a global preset the free tier's", presetOpt)),
			},
		},
		run:          b.presetCommand,
		autocomplete: b.completePreset,
	})
	b.onPrefix("preset-create", b.presetCreateSubmit)
	b.onPrefix("preset-edit", b.presetEditSubmit)
	b.onPrefix("preset-delete", b.presetDeleteSubmit)
}

func (b *Bot) presetCommand(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	switch c.Sub {
	case "create":
		id := "preset-create"
		if c.Bool("global") {
			if !b.Superusers[c.User.ID] {
				return Userf("Only the bot's operators create global presets; leave `global` out to create your own.")
			}
			id += ":global"
		}
		return c.Modal(id, "New preset", presetForm("", "", "")...)
	case "edit":
		p, err := b.editablePreset(ctx, c, u)
		if err != nil {
			return err
		}
		return c.Modal("preset-edit:"+p.ID, "Edit preset "+p.Name, presetForm(p.Name, p.Model, formatParameters(p.Parameters))...)
	case "view":
		return b.presetView(ctx, c, u)
	case "browse":
		return b.presetBrowse(ctx, c, u)
	case "delete":
		return b.presetDelete(ctx, c, u)
	case "export":
		return b.presetExport(ctx, c, u)
	case "import":
		return b.presetImport(ctx, c, u)
	case "default set", "default clear", "override set", "override clear":
		return b.presetChoice(ctx, c, u)
	case "global set", "free set":
		return b.presetSystemDefault(ctx, c, u)
	}
	return Userf("Unknown subcommand %q.", c.Sub)
}

// presetForm is the create and edit modal: the model has its own box (it is required),
// every other field goes into the parameters box.
func presetForm(name, model, params string) []TextInput {
	modelField, _ := preset.Lookup("model")
	return []TextInput{
		{ID: "name", Label: "Name", Value: name, Required: true, Max: preset.MaxNameLen, Placeholder: "e.g. Creative"},
		{ID: "model", Label: "Model", Value: model, Required: true, Max: modelField.MaxLen, Placeholder: "e.g. meta-llama/llama-3.3-70b-instruct"},
		{ID: "parameters", Label: "Parameters: one name = value per line", Value: params, Long: true, Max: MaxModalInputLength,
			Placeholder: "temperature = 0.8\ntop_p = 0.9\nstop = END, ###\n(/preset view lists every parameter)"},
	}
}

// findPreset finds a preset visible to the user by what they picked (an id) or typed (a name).
func (b *Bot) findPreset(ctx context.Context, c *Call, u store.User) (store.Preset, error) {
	ref := c.String("preset")
	p, err := b.Store.Presets.Resolve(ctx, u.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return p, Userf("You have no preset called %q, and no global one has that name. `/preset browse` lists them.", Truncate(ref, 100))
	}
	return p, err
}

// canEdit: a preset is edited and deleted by its owner; global ones by the operators.
func (b *Bot) canEdit(c *Call, u store.User, p store.Preset) bool {
	if p.IsGlobal() {
		return b.Superusers[c.User.ID]
	}
	return p.OwnerID == u.ID
}

func (b *Bot) editablePreset(ctx context.Context, c *Call, u store.User) (store.Preset, error) {
	p, err := b.findPreset(ctx, c, u)
	if err != nil {
		return p, err
	}
	if !b.canEdit(c, u, p) {
		return p, Userf("**%s** is a global preset: only the bot's operators change it. `/preset export` it and `/preset import` the file to get a copy of your own.", p.Name)
	}
	return p, nil
}

func (b *Bot) presetCreateSubmit(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	owner := u.ID
	if c.Arg == "global" {
		if !b.Superusers[c.User.ID] {
			return Userf("Only the bot's operators create global presets.")
		}
		owner = ""
	}
	params, err := parseParameters(c.Field("parameters"))
	if err != nil {
		return keepTyped(err, c.Field("parameters"))
	}
	p, err := b.Store.Presets.Create(ctx, store.Preset{Name: c.Field("name"), OwnerID: owner, Model: c.Field("model"), Parameters: params})
	if err != nil {
		return keepTyped(presetError(err, c.Field("name")), c.Field("parameters"))
	}
	return c.Reply(fmt.Sprintf("Created preset **%s** (model `%s`). `/preset default set` uses it with every character, `/preset override set` with one.%s",
		p.Name, p.Model, ignoredNote(p)))
}

func (b *Bot) presetEditSubmit(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	p, err := b.Store.Presets.Get(ctx, c.Arg)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !b.canEdit(c, u, p)) {
		return Userf("That preset no longer exists, or it is not yours to change.")
	}
	if err != nil {
		return err
	}
	// The form shows every stored value, so what comes back is the whole preset: a line
	// removed or left as `name =` clears that field.
	params, err := parseParameters(c.Field("parameters"))
	if err != nil {
		return keepTyped(err, c.Field("parameters"))
	}
	p.Name, p.Model, p.Parameters = c.Field("name"), c.Field("model"), params
	if p, err = b.Store.Presets.Update(ctx, p); err != nil {
		return keepTyped(presetError(err, c.Field("name")), c.Field("parameters"))
	}
	return c.Reply(fmt.Sprintf("Saved preset **%s** (model `%s`).%s", p.Name, p.Model, ignoredNote(p)))
}

// parseParameters reads the parameters box: one `name = value` per line, blank lines and
// lines starting with # skipped. `name =` leaves the field unset; `name = null` stores an
// explicit null, which clears the field from lower layers of the cascade.
func parseParameters(text string) (preset.Values, error) {
	v := preset.Values{}
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n := i + 1
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, Userf("Nothing saved. Line %d (`%s`) is not `name = value`.", n, Truncate(line, 60))
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "model" {
			return nil, Userf("Nothing saved. Line %d: the model goes into the Model box, not among the parameters.", n)
		}
		if _, known := preset.Lookup(name); !known {
			_, err := preset.Parse(name, value) // the unknown-field error, with a suggestion
			return nil, Userf("Nothing saved. Line %d: %s", n, err)
		}
		if first, dup := seen[name]; dup {
			return nil, Userf("Nothing saved. Line %d sets %s again (line %d already does); keep one.", n, name, first)
		}
		seen[name] = n
		switch value {
		case "":
			continue
		case "null":
			v[name] = nil
			continue
		}
		x, err := preset.Parse(name, value)
		if err != nil {
			return nil, Userf("Nothing saved. Line %d: %s", n, err)
		}
		v[name] = x
	}
	return v, nil
}

// formatParameters writes a preset's parameters the way parseParameters reads them back,
// in table order.
func formatParameters(v preset.Values) string {
	var sb strings.Builder
	for _, f := range preset.Fields {
		x, ok := v[f.Name]
		if !ok || f.Name == "model" {
			continue
		}
		s := "null"
		if x != nil {
			s = preset.Format(f.Name, x)
		}
		fmt.Fprintf(&sb, "%s = %s\n", f.Name, s)
	}
	return sb.String()
}

// presetError turns what the store refuses into an answer for the user.
func presetError(err error, name string) error {
	var fe *preset.FieldError
	switch {
	case errors.As(err, &fe):
		return Userf("Nothing saved: %s.", fe.Error())
	case errors.Is(err, store.ErrDuplicate):
		return Userf("There is already a preset called %q here; pick another name.", Truncate(strings.TrimSpace(name), 100))
	}
	return err
}

// keepTyped adds the parameters a user typed to a refusal: a modal cannot be reopened
// from its own submission, so they paste them back instead of typing them again.
func keepTyped(err error, typed string) error {
	var ue *UserError
	if !errors.As(err, &ue) || strings.TrimSpace(typed) == "" {
		return err
	}
	const intro = "\n-# What you typed, to paste back:\n```\n"
	room := MaxMessageLength - length(ue.Msg) - length(intro) - length("\n```")
	if room < 40 {
		return err
	}
	typed = Truncate(strings.ReplaceAll(strings.TrimSpace(typed), "```", "'''"), room)
	return &UserError{Msg: ue.Msg + intro + typed + "\n```"}
}

// ignoredNote warns about fields the preset's provider drops from the request.
func ignoredNote(p store.Preset) string {
	if ig := preset.Ignored(p.Values(), p.Provider); len(ig) > 0 {
		return fmt.Sprintf("\n-# %s ignores %s.", p.Provider, strings.Join(ig, ", "))
	}
	return ""
}

func (b *Bot) presetView(ctx context.Context, c *Call, u store.User) error {
	p, err := b.findPreset(ctx, c, u)
	if err != nil {
		return err
	}
	values := p.Values()
	ignored := map[string]bool{}
	for _, name := range preset.Ignored(values, p.Provider) {
		ignored[name] = true
	}
	var llmLines, behaviourLines []string
	for _, l := range preset.Display(values) {
		line := "`" + l.Name + "` "
		switch {
		case l.Default && l.Value == "":
			line += "— *provider default*"
		case l.Default:
			line += "= " + l.Value + " *(default)*"
		default:
			line += "= **" + l.Value + "**"
		}
		if ignored[l.Name] {
			line += " ⚠ ignored by " + p.Provider
		}
		if f, _ := preset.Lookup(l.Name); f.Behaviour {
			behaviourLines = append(behaviourLines, line)
		} else {
			llmLines = append(llmLines, line)
		}
	}
	desc := b.presetSummary(ctx, u, p) + "\n\n**Sent to the model**\n" + strings.Join(llmLines, "\n") +
		"\n\n**Tzurot's own behaviour**\n" + strings.Join(behaviourLines, "\n")
	return c.ReplyEmbed(&discordgo.MessageEmbed{Title: "Preset " + p.Name, Description: desc,
		Footer: &discordgo.MessageEmbedFooter{Text: "(default): not set in this preset. Unset fields come from the next preset down: your default, the character's, the global default."}})
}

// presetSummary is one line of whose a preset is and where it applies.
func (b *Bot) presetSummary(ctx context.Context, u store.User, p store.Preset) string {
	whose := "Your preset"
	if p.IsGlobal() {
		whose = "Global preset"
	}
	parts := []string{whose, "provider " + p.Provider}
	if p.IsGlobalDefault {
		parts = append(parts, "★ everyone's default")
	}
	if p.IsFreeDefault {
		parts = append(parts, "the free tier's preset")
	}
	if d, err := b.Store.Presets.UserDefault(ctx, u.ID); err == nil && d.ID == p.ID {
		parts = append(parts, "✓ your default")
	}
	return strings.Join(parts, " · ")
}

// maxBrowsed keeps /preset browse inside one embed.
const maxBrowsed = 40

func (b *Bot) presetBrowse(ctx context.Context, c *Call, u store.User) error {
	list, err := b.Store.Presets.List(ctx, u.ID)
	if err != nil {
		return err
	}
	def, _ := b.Store.Presets.UserDefault(ctx, u.ID)
	var own, global []string
	for _, p := range list {
		line := "**" + p.Name + "** · `" + Truncate(p.Model, 80) + "`"
		if p.ID == def.ID {
			line += " · ✓ your default"
		}
		if p.IsGlobalDefault {
			line += " · ★ everyone's default"
		}
		if p.IsFreeDefault {
			line += " · free tier"
		}
		if p.IsGlobal() {
			global = append(global, line)
		} else {
			own = append(own, line)
		}
	}
	desc := "**Yours**\n" + browseLines(own, "None yet: `/preset create` makes one.") +
		"\n\n**Global**\n" + browseLines(global, "None.")
	return c.ReplyEmbed(&discordgo.MessageEmbed{Title: "Presets", Description: desc})
}

func browseLines(lines []string, empty string) string {
	if len(lines) == 0 {
		return empty
	}
	if len(lines) > maxBrowsed {
		return strings.Join(lines[:maxBrowsed], "\n") + fmt.Sprintf("\n…and %d more (start typing a name in `/preset view`).", len(lines)-maxBrowsed)
	}
	return strings.Join(lines, "\n")
}

// presetDelete asks for the preset's name in a modal: a deleted preset is gone for
// everyone who used it.
func (b *Bot) presetDelete(ctx context.Context, c *Call, u store.User) error {
	p, err := b.editablePreset(ctx, c, u)
	if err != nil {
		return err
	}
	if p.IsGlobalDefault || p.IsFreeDefault {
		return Userf("**%s** is a default for everyone; make another preset the default first.", p.Name)
	}
	return c.Modal("preset-delete:"+p.ID, "Delete preset "+p.Name, TextInput{ID: "confirm",
		Label: "Type the preset's name to delete it", Placeholder: p.Name, Required: true, Max: preset.MaxNameLen})
}

func (b *Bot) presetDeleteSubmit(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	p, err := b.Store.Presets.Get(ctx, c.Arg)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !b.canEdit(c, u, p)) {
		return Userf("That preset no longer exists, or it is not yours to delete.")
	}
	if err != nil {
		return err
	}
	if typed := strings.TrimSpace(c.Field("confirm")); !strings.EqualFold(typed, p.Name) {
		return Userf("Nothing deleted: you typed %q, not the preset's name %q.", Truncate(typed, 100), p.Name)
	}
	switch err := b.Store.Presets.Delete(ctx, p.ID, p.OwnerID); {
	case errors.Is(err, store.ErrPresetIsDefault):
		return Userf("**%s** is a default for everyone; make another preset the default first.", p.Name)
	case errors.Is(err, store.ErrNotFound):
		return Userf("That preset no longer exists.")
	case err != nil:
		return err
	}
	return c.Reply(fmt.Sprintf("Deleted preset **%s**. Whoever used it falls back to their next preset.", p.Name))
}

func (b *Bot) presetExport(ctx context.Context, c *Call, u store.User) error {
	p, err := b.findPreset(ctx, c, u)
	if err != nil {
		return err
	}
	data, err := preset.Export(p.Name, p.Values())
	if err != nil {
		return fmt.Errorf("export preset %s: %w", p.ID, err)
	}
	block := "```json\n" + string(data) + "```"
	intro := fmt.Sprintf("Preset **%s**; `/preset import` reads it back.", p.Name)
	if !bytes.Contains(data, []byte("```")) && length(intro+"\n"+block) <= MaxMessageLength {
		return c.Reply(intro + "\n" + block)
	}
	return replyFile(c, intro, exportFilename(p.Name), data)
}

// exportFilename keeps letters, digits, dashes and underscores of a preset's name.
func exportFilename(name string) string {
	f := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, name)
	return "preset-" + Truncate(f, 60) + ".json"
}

// replyFile answers ephemerally with a file attached.
func replyFile(c *Call, content, filename string, data []byte) error {
	file := &discordgo.File{Name: filename, ContentType: "application/json", Reader: bytes.NewReader(data)}
	if c.responded {
		_, err := c.b.Session.FollowupMessageCreate(c.I, true, &discordgo.WebhookParams{Content: content,
			Files: []*discordgo.File{file}, Flags: discordgo.MessageFlagsEphemeral})
		return err
	}
	c.responded = true
	return c.b.Session.InteractionRespond(c.I, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: content, Files: []*discordgo.File{file}, Flags: discordgo.MessageFlagsEphemeral}})
}

func (b *Bot) presetImport(ctx context.Context, c *Call, u store.User) error {
	owner := u.ID
	if c.Bool("global") {
		if !b.Superusers[c.User.ID] {
			return Userf("Only the bot's operators import global presets; leave `global` out to import your own.")
		}
		owner = ""
	}
	att, err := c.Attachment("file", "Attach the preset's JSON file (from `/preset export`).")
	if err != nil {
		return err
	}
	if att.Size > preset.MaxExportSize {
		return Userf("That file has %d KiB; a preset file is at most %d KiB.", att.Size>>10, preset.MaxExportSize>>10)
	}
	if err := c.Defer(); err != nil {
		return err
	}
	data, err := b.fetchFile(ctx, att.URL, preset.MaxExportSize)
	if err != nil {
		return err
	}
	name, values, err := preset.Import(data)
	if err != nil {
		return Userf("That file is not a preset I can read: %s", err)
	}
	p, err := b.Store.Presets.Create(ctx, store.Preset{Name: name, OwnerID: owner, Parameters: values})
	if err != nil {
		return presetError(err, name)
	}
	return c.Reply(fmt.Sprintf("Imported preset **%s** (model `%s`).%s", p.Name, p.Model, ignoredNote(p)))
}

// presetChoice is /preset default set|clear and /preset override set|clear.
func (b *Bot) presetChoice(ctx context.Context, c *Call, u store.User) error {
	var character store.Personality
	if strings.HasPrefix(c.Sub, "override") {
		var err error
		if character, err = b.presetCharacter(ctx, c); err != nil {
			return err
		}
	}
	switch c.Sub {
	case "default clear":
		was, err := b.Store.Presets.ClearUserDefault(ctx, u.ID)
		if err != nil || !was {
			return replyOr(c, err, "You had no default preset.")
		}
		return c.Reply("Done: each character answers you with its own preset again.")
	case "override clear":
		was, err := b.Store.Presets.ClearOverride(ctx, u.ID, character.ID)
		if err != nil || !was {
			return replyOr(c, err, fmt.Sprintf("You had no preset for **%s**.", character.DisplayName))
		}
		return c.Reply(fmt.Sprintf("Done: **%s** answers you with your default preset again.", character.DisplayName))
	}
	p, err := b.findPreset(ctx, c, u)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Every character now answers you with **%s**, unless you set an override for one.", p.Name)
	if c.Sub == "override set" {
		err = b.Store.Presets.SetOverride(ctx, u.ID, character.ID, p.ID)
		msg = fmt.Sprintf("**%s** now answers you with **%s**; it wins over your default.", character.DisplayName, p.Name)
	} else {
		err = b.Store.Presets.SetUserDefault(ctx, u.ID, p.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return Userf("That preset or character no longer exists.")
	}
	if err != nil {
		return err
	}
	return c.Reply(msg + b.guestNote(ctx, u))
}

// replyOr returns err, or else replies msg.
func replyOr(c *Call, err error, msg string) error {
	if err != nil {
		return err
	}
	return c.Reply(msg)
}

// presetCharacter resolves the character option as /channel does: public characters, or
// the caller's own.
func (b *Bot) presetCharacter(ctx context.Context, c *Call) (store.Personality, error) {
	p, err := b.Store.Personalities.Resolve(ctx, c.String("character"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.IsPublic && !b.owns(ctx, c, p)) {
		return p, Userf("I know no character called %q. Start typing and pick one from the list.", Truncate(c.String("character"), 100))
	}
	return p, err
}

// guestNote tells a user without their own key that their choice waits for one: guests
// all get the free tier's preset.
func (b *Bot) guestNote(ctx context.Context, u store.User) string {
	if b.Store.APIKeys == nil {
		return ""
	}
	keys, err := b.Store.APIKeys.List(ctx, u.ID)
	if err != nil || len(keys) > 0 {
		return ""
	}
	return "\n-# You are on the free tier, which uses its own preset: yours applies once you add your own API key (`/settings apikey set`)."
}

// presetSystemDefault is the operators' /preset global set and /preset free set.
func (b *Bot) presetSystemDefault(ctx context.Context, c *Call, u store.User) error {
	if !b.Superusers[c.User.ID] {
		return Userf("Only the bot's operators can do that.")
	}
	p, err := b.findPreset(ctx, c, u)
	if err != nil {
		return err
	}
	set, what := b.Store.Presets.SetGlobalDefault, "everyone's default preset"
	if c.Sub == "free set" {
		set, what = b.Store.Presets.SetFreeDefault, "the free tier's preset"
	}
	switch err := set(ctx, p.ID); {
	case errors.Is(err, store.ErrNotGlobal):
		return Userf("**%s** is your own preset; only a global one can be %s (`/preset create global:true`).", p.Name, what)
	case err != nil:
		return err
	}
	return c.Reply(fmt.Sprintf("**%s** is now %s.", p.Name, what))
}

// completePreset offers presets (ids as values, so a global and an own preset of the same
// name stay apart) and, for overrides, characters.
func (b *Bot) completePreset(ctx context.Context, c *Call, focused *discordgo.ApplicationCommandInteractionDataOption) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	if focused.Name == "character" {
		return b.completeCharacter(ctx, c, focused)
	}
	u, err := c.user(ctx)
	if err != nil {
		return nil, err
	}
	list, err := b.Store.Presets.List(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	typed, _ := focused.Value.(string)
	typed = strings.ToLower(strings.TrimSpace(typed))
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, p := range list {
		switch {
		case !strings.Contains(strings.ToLower(p.Name), typed),
			(c.Sub == "edit" || c.Sub == "delete") && !b.canEdit(c, u, p),
			(c.Sub == "global set" || c.Sub == "free set") && !p.IsGlobal():
			continue
		}
		label := p.Name + " — " + p.Model
		if p.IsGlobal() {
			label += " (global)"
		}
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: Truncate(label, 100), Value: p.ID})
	}
	return out, nil
}
