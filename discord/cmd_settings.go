package discord

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/store"
)

// Providers users can bring a key for.
const (
	ProviderOpenRouter       = "openrouter"
	ProviderOpenAICompatible = "openai-compatible"
)

// /settings apikey set|browse|remove|test and /settings timezone set|view. The key itself
// is typed into a modal, never a slash-command option (those show up in clients' command
// history), checked with the provider, sealed, and answered ephemerally.
func (b *Bot) addSettingsCommands() {
	providerOpt := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "provider",
		Description: "Which provider the key is for", Required: true, Choices: []*discordgo.ApplicationCommandOptionChoice{
			{Name: "OpenRouter", Value: ProviderOpenRouter}, {Name: "OpenAI-compatible (custom URL)", Value: ProviderOpenAICompatible}}}
	b.add(&command{
		def: &discordgo.ApplicationCommand{
			Name: "settings", Description: "Your keys and preferences",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "apikey", Description: "Bring your own LLM API key",
					Options: []*discordgo.ApplicationCommandOption{
						{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "set", Description: "Add or replace a key (a private form opens)", Options: []*discordgo.ApplicationCommandOption{providerOpt}},
						{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "browse", Description: "Your keys, masked"},
						{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "remove", Description: "Delete a key", Options: []*discordgo.ApplicationCommandOption{providerOpt}},
						{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "test", Description: "Check a stored key with its provider", Options: []*discordgo.ApplicationCommandOption{providerOpt}},
					}},
				{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "timezone", Description: "Your time zone, for the characters' sense of time",
					Options: []*discordgo.ApplicationCommandOption{
						{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "set", Description: "Set your time zone", Options: []*discordgo.ApplicationCommandOption{
							{Type: discordgo.ApplicationCommandOptionString, Name: "zone", Description: "e.g. Europe/Berlin", Required: true, Autocomplete: true}}},
						{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "view", Description: "Show your time zone"},
					}},
				b.dataSettingsGroup(),
			},
		},
		run:          b.settingsCommand,
		autocomplete: b.completeZone,
	})
	b.onPrefix("apikey-set", b.apikeySubmit)
}

func (b *Bot) settingsCommand(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	switch c.Sub {
	case "apikey set":
		provider := c.String("provider")
		inputs := []TextInput{{ID: "key", Label: "API key", Required: true, Max: 300, Placeholder: "sk-..."}}
		if provider == ProviderOpenAICompatible {
			inputs = append(inputs, TextInput{ID: "base_url", Label: "Base URL", Required: true, Max: 300, Placeholder: "https://api.example.com/v1"})
		}
		return c.Modal("apikey-set:"+provider, "Your "+provider+" key", inputs...)
	case "apikey browse":
		return b.apikeyBrowse(ctx, c, u)
	case "apikey remove":
		if err := b.needKeys(); err != nil {
			return err
		}
		gone, err := b.Store.APIKeys.Delete(ctx, u.ID, c.String("provider"))
		if err != nil {
			return err
		}
		if !gone {
			return c.Reply("You have no " + c.String("provider") + " key stored.")
		}
		return c.Reply("Deleted your " + c.String("provider") + " key. Characters answer you on the free tier again.")
	case "apikey test":
		return b.apikeyTest(ctx, c, u)
	case "timezone set":
		zone := strings.TrimSpace(c.String("zone"))
		if _, err := time.LoadLocation(zone); err != nil || zone == "" || zone == "Local" {
			return Userf("%q is not a time zone I know. Pick one from the list (e.g. Europe/Berlin, America/New_York).", zone)
		}
		if err := b.Store.Users.SetTimezone(ctx, u.ID, zone); err != nil {
			return err
		}
		loc, _ := time.LoadLocation(zone)
		return c.Reply(fmt.Sprintf("Time zone set to **%s** (it is %s there now).", zone, time.Now().In(loc).Format("15:04 on Monday")))
	case "timezone view":
		return c.Reply(fmt.Sprintf("Your time zone is **%s**.", u.Timezone))
	case "data export", "data delete":
		return b.dataCommand(ctx, c, u)
	}
	return Userf("Unknown subcommand %q.", c.Sub)
}

func (b *Bot) needKeys() error {
	if b.Store.APIKeys == nil {
		return errors.New("API keys are not configured on this bot (no master key)")
	}
	return nil
}

// apikeySubmit validates the key with the provider, then seals and stores it. The check
// can take a few seconds, so the answer is deferred.
func (b *Bot) apikeySubmit(ctx context.Context, c *Call) error {
	if err := b.needKeys(); err != nil {
		return err
	}
	provider := c.Arg
	if provider != ProviderOpenRouter && provider != ProviderOpenAICompatible {
		return Userf("Unknown provider %q.", provider)
	}
	key := strings.TrimSpace(c.Field("key"))
	baseURL := strings.TrimRight(strings.TrimSpace(c.Field("base_url")), "/")
	if key == "" || strings.ContainsAny(key, " \t\n") || len(key) > 300 {
		return Userf("That does not look like an API key (no spaces, at most 300 characters). Nothing was stored.")
	}
	if provider == ProviderOpenAICompatible {
		if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Userf("The base URL must look like https://api.example.com/v1. Nothing was stored.")
		}
	} else {
		baseURL = ""
	}
	if err := c.Defer(); err != nil {
		return err
	}
	st, err := b.llmFor(baseURL).CheckKey(ctx, provider, key)
	if err != nil {
		return err
	}
	switch st.State {
	case llm.KeyInvalid, llm.KeyNoCredit, llm.KeyUnchecked:
		return Userf("Not stored: %s.", st.Detail)
	}
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	if err := b.Store.APIKeys.Put(ctx, u.ID, provider, baseURL, key); err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("Saved your %s key (%s): %s. Characters now answer you with it; `/settings apikey remove` deletes it.",
		provider, store.MaskAPIKey(key), st.Detail))
}

func (b *Bot) apikeyBrowse(ctx context.Context, c *Call, u store.User) error {
	if err := b.needKeys(); err != nil {
		return err
	}
	keys, err := b.Store.APIKeys.List(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return c.Reply("You have no keys stored: characters answer you on the free tier. `/settings apikey set` adds one.")
	}
	e := &discordgo.MessageEmbed{Title: "Your API keys"}
	for _, k := range keys {
		used := "never used"
		if k.LastUsedAt != nil {
			used = "last used " + discordTime(*k.LastUsedAt)
		}
		v := k.Masked + " · " + used
		if k.BaseURL != "" {
			v += "\n" + k.BaseURL
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: k.Provider, Value: v})
	}
	return c.ReplyEmbed(e)
}

func (b *Bot) apikeyTest(ctx context.Context, c *Call, u store.User) error {
	if err := b.needKeys(); err != nil {
		return err
	}
	provider := c.String("provider")
	key, baseURL, _, err := b.Store.APIKeys.Reveal(ctx, u.ID, provider)
	if errors.Is(err, store.ErrNotFound) {
		return Userf("You have no %s key stored.", provider)
	}
	if err != nil {
		return err
	}
	if err := c.Defer(); err != nil {
		return err
	}
	st, err := b.llmFor(baseURL).CheckKey(ctx, provider, key)
	if err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("Your %s key: %s.", provider, st.Detail))
}

// llmFor is an LLM client for a user's custom base URL, or the operator's endpoint.
func (b *Bot) llmFor(baseURL string) *llm.Client {
	if baseURL == "" {
		baseURL = b.LLMBaseURL
	}
	return llm.New(llm.Config{BaseURL: baseURL, HTTPClient: b.HTTP})
}

// completeZone offers IANA zones containing what the user typed.
func (b *Bot) completeZone(_ context.Context, _ *Call, focused *discordgo.ApplicationCommandInteractionDataOption) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	typed, _ := focused.Value.(string)
	typed = strings.ToLower(strings.ReplaceAll(typed, " ", "_"))
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, z := range Zones() {
		if strings.Contains(strings.ToLower(z), typed) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: z, Value: z})
			if len(out) == 25 {
				break
			}
		}
	}
	return out, nil
}

// discordTime renders a time as Discord's relative timestamp markup.
func discordTime(t time.Time) string { return fmt.Sprintf("<t:%d:R>", t.Unix()) }
