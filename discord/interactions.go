package discord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/store"
)

// Bot answers slash commands, autocomplete, buttons and modals. Commands route through a
// map keyed by name; components and modals through a custom-id prefix ("persona-edit:ID").
// Handlers are methods on Bot; quick work is done inline within Discord's 3 seconds,
// long work is deferred or handed to a workflow.
type Bot struct {
	Session    *discordgo.Session
	Store      *store.Store
	Logger     *slog.Logger
	Superusers map[string]bool // Discord user ids allowed to run owner-only commands
	// Activations is invalidated when /channel changes a channel (optional).
	Activations *ActivationCache
	// Guard is invalidated when /deny or /channel restrict change a rule (optional).
	Guard *Guard
	// LLMBaseURL is the OpenRouter endpoint users' keys are checked against; HTTP the
	// client for those checks (nil: a default one).
	LLMBaseURL string
	HTTP       *http.Client
	// Temporal starts the data export and erasure workflows (/settings data).
	Temporal client.Client
	// Version and Started are reported by /admin health.
	Version string
	Started time.Time

	commands map[string]*command
	prefixes map[string]handler // custom-id prefix -> component or modal handler
	order    []string
}

type handler func(ctx context.Context, c *Call) error

type command struct {
	def          *discordgo.ApplicationCommand
	run          handler
	autocomplete func(ctx context.Context, c *Call, focused *discordgo.ApplicationCommandInteractionDataOption) ([]*discordgo.ApplicationCommandOptionChoice, error)
}

// UserError is an error a user should read, rendered to Discord as is (ephemeral).
// Everything else is logged with a reference id the user also sees.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

// Userf builds a UserError.
func Userf(format string, args ...any) error { return &UserError{Msg: fmt.Sprintf(format, args...)} }

// NewBot builds the interaction side with every command registered.
func NewBot(s *discordgo.Session, st *store.Store, logger *slog.Logger, superusers map[string]bool) *Bot {
	if logger == nil {
		logger = slog.Default()
	}
	b := &Bot{Session: s, Store: st, Logger: logger, Superusers: superusers, Started: time.Now(),
		commands: map[string]*command{}, prefixes: map[string]handler{}}
	b.addChannelCommands()
	b.addPresetCommands()
	b.addPersonaCommands()
	b.addSettingsCommands()
	b.addUsageCommands()
	b.addCharacterCommands()
	b.addDenyCommands()
	b.addMemoryCommands()
	b.addHistoryCommands()
	return b
}

func (b *Bot) add(c *command) {
	b.commands[c.def.Name] = c
	b.order = append(b.order, c.def.Name)
}

func (b *Bot) onPrefix(prefix string, h handler) { b.prefixes[prefix] = h }

// Definitions lists the slash commands to register with Discord, in a stable order.
func (b *Bot) Definitions() []*discordgo.ApplicationCommand {
	out := make([]*discordgo.ApplicationCommand, 0, len(b.order))
	for _, name := range b.order {
		out = append(out, b.commands[name].def)
	}
	return out
}

// Register overwrites the application's global commands with ours.
func (b *Bot) Register(appID string) error {
	_, err := b.Session.ApplicationCommandBulkOverwrite(appID, "", b.Definitions())
	if err != nil {
		return fmt.Errorf("register slash commands: %w", err)
	}
	return nil
}

// Handle is the INTERACTION_CREATE handler. It never panics: a handler's panic becomes a
// logged error with a reference, and the user gets that reference.
func (b *Bot) Handle(ctx context.Context, s *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic == nil || ic.Interaction == nil {
		return
	}
	c := &Call{b: b, I: ic.Interaction, User: ic.Interaction.User}
	if ic.Member != nil && ic.Member.User != nil {
		c.User = ic.Member.User
	}
	if c.User == nil {
		b.Logger.Warn("interaction without a user; ignored", "interaction_id", ic.ID)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute) // an interaction token lives 15 minutes
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			b.fail(c, fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
		}
	}()
	if err := b.route(ctx, c); err != nil {
		b.fail(c, err)
	}
}

func (b *Bot) route(ctx context.Context, c *Call) error {
	switch c.I.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		data, ok := c.I.Data.(discordgo.ApplicationCommandInteractionData)
		if !ok {
			return fmt.Errorf("command interaction with %T data", c.I.Data)
		}
		cmd, ok := b.commands[data.Name]
		if !ok {
			return Userf("I do not know the command /%s; Discord may still be showing an old list.", data.Name)
		}
		c.parseOptions(data)
		if c.I.Type == discordgo.InteractionApplicationCommandAutocomplete {
			return b.autocomplete(ctx, c, cmd)
		}
		return cmd.run(ctx, c)
	case discordgo.InteractionMessageComponent:
		data, ok := c.I.Data.(discordgo.MessageComponentInteractionData)
		if !ok {
			return fmt.Errorf("component interaction with %T data", c.I.Data)
		}
		return b.byPrefix(ctx, c, data.CustomID)
	case discordgo.InteractionModalSubmit:
		data, ok := c.I.Data.(discordgo.ModalSubmitInteractionData)
		if !ok {
			return fmt.Errorf("modal interaction with %T data", c.I.Data)
		}
		c.modal = modalValues(data)
		return b.byPrefix(ctx, c, data.CustomID)
	}
	return nil // pings and future types: nothing to answer
}

func (b *Bot) byPrefix(ctx context.Context, c *Call, customID string) error {
	prefix, arg, _ := strings.Cut(customID, ":")
	h, ok := b.prefixes[prefix]
	if !ok {
		return Userf("This button or form has expired; run the command again.")
	}
	c.Arg = arg
	return h(ctx, c)
}

func (b *Bot) autocomplete(ctx context.Context, c *Call, cmd *command) error {
	var choices []*discordgo.ApplicationCommandOptionChoice
	if cmd.autocomplete != nil && c.focused != nil {
		var err error
		if choices, err = cmd.autocomplete(ctx, c, c.focused); err != nil {
			b.Logger.Warn("autocomplete failed", "command", cmd.def.Name, "err", err)
			choices = nil // an empty list beats an error the user cannot see
		}
	}
	if len(choices) > 25 {
		choices = choices[:25]
	}
	return b.Session.InteractionRespond(c.I, &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices},
	}, discordgo.WithContext(ctx))
}

// fail renders an error: a UserError as it is, anything else as a short apology with a
// reference id that is also in the log line.
func (b *Bot) fail(c *Call, err error) {
	var ue *UserError
	msg := ""
	if errors.As(err, &ue) {
		msg = ue.Msg
	} else {
		ref := newRef()
		b.Logger.Error("interaction failed", "ref", ref, "interaction_id", c.I.ID, "user_id", c.User.ID, "err", err)
		msg = fmt.Sprintf("Something went wrong on our side. If it keeps happening, give an operator this reference: `%s`.", ref)
	}
	if c.I.Type == discordgo.InteractionApplicationCommandAutocomplete {
		return
	}
	if rerr := c.Reply(msg); rerr != nil {
		b.Logger.Warn("could not tell the user about an error", "interaction_id", c.I.ID, "err", rerr)
	}
}

func newRef() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "ref-" + hex.EncodeToString(b[:])
}
