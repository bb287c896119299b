package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workflows"
)

// /settings data export|delete: what the bot keeps about a user is theirs to take away
// and to erase. Both run as workflows (DataExportWorkflow, DataEraseWorkflow) and answer
// by direct message; the command only starts them.

// dataSettingsGroup is the `data` group of /settings; it also registers the handlers of
// the erasure's confirmation step.
func (b *Bot) dataSettingsGroup() *discordgo.ApplicationCommandOption {
	b.onPrefix("data-erase-choice", b.dataEraseChoice)
	b.onPrefix("data-erase", b.dataEraseSubmit)
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "data", Description: "Your data: take it with you, or erase it",
		Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "export", Description: "Everything I keep about you, as a ZIP by direct message"},
			{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "delete", Description: "Erase everything I keep about you (you confirm first)"},
		}}
}

func (b *Bot) dataCommand(ctx context.Context, c *Call, u store.User) error {
	if b.Temporal == nil {
		return errors.New("the bot has no Temporal client to start data workflows with")
	}
	if c.Sub == "data export" {
		return b.dataExport(ctx, c)
	}
	owned, err := b.Store.Accounts.OwnedCharacters(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(owned) == 0 || b.heir(c.User.ID) == "" {
		return eraseModal(c, "delete")
	}
	return sendRich(c, &discordgo.InteractionResponseData{
		Content: fmt.Sprintf("You own %d characters. Before I erase your data: what becomes of them?", len(owned)),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.SelectMenu{
			CustomID: "data-erase-choice", Placeholder: "Your characters...",
			Options: []discordgo.SelectMenuOption{
				{Label: "Delete them", Value: "delete", Description: "With everyone's memories of and conversations with them"},
				{Label: "Hand them to the bot's operators", Value: "handover", Description: "They stay for others to talk to"},
			}}}}},
	})
}

func (b *Bot) dataExport(ctx context.Context, c *Call) error {
	id := workflows.DataExportID(c.User.ID, time.Now())
	_, err := b.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(workflows.AttrUser.ValueSet(c.User.ID)),
	}, workflows.DataExportWorkflowName, workflows.DataExportInput{DiscordUserID: c.User.ID})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return c.Reply("Your export of a moment ago is on its way to your direct messages; ask again in a minute if it does not arrive.")
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	return c.Reply(fmt.Sprintf("I am gathering everything I keep about you: it arrives as a ZIP by direct message in a minute or two. "+
		"Make sure you accept direct messages from this server's members.\n-# ref `%s`", id))
}

func eraseModal(c *Call, choice string) error {
	return c.Modal("data-erase:"+choice, "Erase all your data", TextInput{ID: "confirm", Label: "Type DELETE to erase everything",
		Placeholder: "DELETE", Required: true, Max: 20})
}

// dataEraseChoice takes what becomes of the user's characters, then asks for DELETE.
func (b *Bot) dataEraseChoice(_ context.Context, c *Call) error {
	data, ok := c.I.Data.(discordgo.MessageComponentInteractionData)
	if !ok || len(data.Values) != 1 || (data.Values[0] != "delete" && data.Values[0] != "handover") {
		return Userf("Pick one of the two choices.")
	}
	return eraseModal(c, data.Values[0])
}

// dataEraseSubmit starts the erasure once the user typed DELETE.
func (b *Bot) dataEraseSubmit(ctx context.Context, c *Call) error {
	if typed := strings.TrimSpace(c.Field("confirm")); typed != "DELETE" {
		return Userf("Nothing erased: you typed %q, not DELETE.", Truncate(typed, 40))
	}
	if b.Temporal == nil {
		return errors.New("the bot has no Temporal client to start data workflows with")
	}
	heir := ""
	if c.Arg == "handover" {
		if heir = b.heir(c.User.ID); heir == "" {
			return Userf("This bot has no operator to hand your characters to; run the command again and delete them.")
		}
	}
	id := workflows.DataEraseID(c.User.ID)
	_, err := b.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(workflows.AttrUser.ValueSet(c.User.ID)),
	}, workflows.DataEraseWorkflowName, workflows.DataEraseInput{DiscordUserID: c.User.ID, HeirDiscordID: heir})
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	what := "deleted"
	if heir != "" {
		what = "handed to the bot's operators"
	}
	return c.Reply(fmt.Sprintf("Erasing everything I keep about you: conversations, memories, personas, presets, keys, usage and settings; "+
		"your characters are %s. A receipt with what was removed arrives by direct message.\n-# ref `%s`", what, id))
}

// heir is the operator who receives the characters of a user who erases their data:
// the first superuser by id who is not that user ("" if none).
func (b *Bot) heir(except string) string {
	ids := make([]string, 0, len(b.Superusers))
	for id, ok := range b.Superusers {
		if ok && id != except {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// sendDM posts a direct message to a user, with files.
func sendDM(ctx context.Context, s *discordgo.Session, discordUserID, content string, files ...*discordgo.File) (*discordgo.Message, error) {
	ch, err := s.UserChannelCreate(discordUserID, discordgo.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	return s.ChannelMessageSendComplex(ch.ID, &discordgo.MessageSend{Content: Truncate(content, MaxMessageLength), Files: files}, discordgo.WithContext(ctx))
}

// DirectMessage implements activities.DirectMessenger. A user who takes no direct
// messages from the bot (Discord's 50007) gets a non-retryable DirectMessagesClosed.
func (r *REST) DirectMessage(ctx context.Context, discordUserID, content string, files ...activities.File) (string, error) {
	df := make([]*discordgo.File, len(files))
	for i, f := range files {
		df[i] = &discordgo.File{Name: f.Name, ContentType: f.ContentType, Reader: bytes.NewReader(f.Data)}
	}
	m, err := sendDM(ctx, r.s, discordUserID, content, df...)
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil && re.Message.Code == discordgo.ErrCodeCannotSendMessagesToThisUser {
		return "", activities.NonRetryable(activities.ErrTypeDMClosed, errors.New("the user accepts no direct messages from the bot"))
	}
	if err != nil {
		return "", classify("direct message", err)
	}
	return m.ID, nil
}

var _ activities.DirectMessenger = (*REST)(nil)
