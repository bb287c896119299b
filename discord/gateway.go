package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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

// ActivatedChannels reports the channels where a personality answers every message; the
// gateway asks it on every message, so it must be a cache.
type ActivatedChannels interface {
	IsActivated(channelID string) bool
}

// Gateway receives MESSAGE_CREATE events, applies cheap filters and starts one
// ConversationWorkflow per message that may trigger a personality. The workflow id is
// derived from the message id and duplicates are rejected, so a redelivered event or a
// second bot replica starts nothing new.
type Gateway struct {
	Session   *discordgo.Session
	Temporal  client.Client
	TaskQueue string
	Activated ActivatedChannels // optional
	// Guard drops messages from denied users and servers, in restricted channels and
	// past the rate limits before any workflow starts (optional).
	Guard *Guard
	// Interactions answers slash commands; nil runs the message intake only.
	Interactions *Bot
	Logger       *slog.Logger
	// StartTimeout bounds how long a message waits for Temporal before it is given up on
	// (logged with its id so an operator can replay it).
	StartTimeout time.Duration
	// EagerStart asks the server to hand the first workflow task straight to a worker in
	// this process (dev, or a bot and worker sharing one process), saving a round trip.
	EagerStart bool
	// OnStart is told what became of each message that reached Temporal: "started",
	// "duplicate" or "dropped" (metrics).
	OnStart func(outcome string)
	// Dispatch, when set, replaces starting a workflow (the benchmark's in-process
	// baseline runs the same activities inline through it).
	Dispatch func(ctx context.Context, snap activities.MessageSnapshot)

	wg sync.WaitGroup
}

// Run opens the gateway and handles messages until ctx ends.
func (g *Gateway) Run(ctx context.Context) error {
	if g.Logger == nil {
		g.Logger = slog.Default()
	}
	if g.StartTimeout == 0 {
		g.StartTimeout = 2 * time.Minute
	}
	remove := g.Session.AddHandler(func(s *discordgo.Session, m *discordgo.MessageCreate) {
		g.wg.Add(1)
		defer g.wg.Done()
		g.onMessage(ctx, s, m)
	})
	defer remove()
	if g.Interactions != nil {
		defer g.Session.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
			g.wg.Add(1)
			defer g.wg.Done()
			g.Interactions.Handle(ctx, s, ic)
		})()
	}
	if err := g.Session.Open(); err != nil {
		return fmt.Errorf("discord gateway: %w", err)
	}
	g.Logger.Info("discord gateway connected", "bot", g.Session.State.User.Username)
	if g.Interactions != nil {
		appID := g.Session.State.User.ID
		if g.Session.State.Application != nil && g.Session.State.Application.ID != "" {
			appID = g.Session.State.Application.ID
		}
		if err := g.Interactions.Register(appID); err != nil {
			// Messages still work without slash commands; say so loudly.
			g.Logger.Error("slash commands not registered", "err", err)
		}
	}
	<-ctx.Done()
	err := g.Session.Close()
	g.wg.Wait()
	return err
}

func (g *Gateway) onMessage(ctx context.Context, s *discordgo.Session, m *discordgo.MessageCreate) {
	if m == nil || m.Message == nil || m.Author == nil {
		return
	}
	self := ""
	if s.State != nil && s.State.User != nil {
		self = s.State.User.ID
	}
	snap, ok := g.Snapshot(m.Message, self)
	if !ok || !g.admit(ctx, m.Message, snap, self) {
		return
	}
	if g.Dispatch != nil {
		g.Dispatch(ctx, snap)
		return
	}
	g.start(ctx, snap)
}

// Snapshot applies the cheap filters and, when the message may trigger a personality,
// returns the small snapshot the workflow starts from. Filters: not from a bot or webhook
// (which includes our own replies), and either a DM, a reply, an @ in the text or a
// channel with an activated personality. Everything else is settled in the workflow.
func (g *Gateway) Snapshot(m *discordgo.Message, selfID string) (activities.MessageSnapshot, bool) {
	if m.Author == nil || m.Author.Bot || m.WebhookID != "" || m.Author.ID == selfID {
		return activities.MessageSnapshot{}, false
	}
	snap := activities.MessageSnapshot{
		ID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID,
		AuthorID: m.Author.ID, AuthorUsername: m.Author.Username, AuthorDisplayName: m.Author.GlobalName,
		Content: store.CleanText(m.Content), CreatedAt: m.Timestamp,
	}
	if m.Member != nil && m.Member.Nick != "" {
		snap.AuthorDisplayName = m.Member.Nick
	}
	for _, a := range m.Attachments {
		if a != nil {
			snap.Attachments = append(snap.Attachments, activities.Attachment{URL: a.URL, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size})
		}
	}
	if m.MessageReference != nil {
		snap.ReferencedMessageID = m.MessageReference.MessageID
	}
	if g.Session != nil && g.Session.State != nil {
		st := g.Session.State
		if ch, err := st.Channel(m.ChannelID); err == nil {
			snap.ChannelName, snap.ChannelNSFW = ch.Name, ch.NSFW
			if ch.IsThread() {
				// Threads carry no NSFW flag of their own: they are as age-restricted as
				// their parent (unknown parent: not restricted).
				snap.ParentChannelID, snap.ChannelNSFW = ch.ParentID, false
				if parent, err := st.Channel(ch.ParentID); err == nil {
					snap.ParentChannelName, snap.ChannelNSFW = parent.Name, parent.NSFW
				}
			}
		}
		if gd, err := st.Guild(m.GuildID); err == nil {
			snap.GuildName = gd.Name
		}
	}
	mayTrigger := m.GuildID == "" || snap.ReferencedMessageID != "" || strings.Contains(m.Content, "@") ||
		(g.Activated != nil && (g.Activated.IsActivated(m.ChannelID) || g.Activated.IsActivated(snap.ParentChannelID)))
	return snap, mayTrigger
}

// start starts the message's workflow, retrying while Temporal is unreachable so a
// short outage loses nothing.
func (g *Gateway) start(ctx context.Context, snap activities.MessageSnapshot) {
	id := workflows.ConversationID(snap.ID)
	opts := client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                g.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		EnableEagerStart:         g.EagerStart,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrUser.ValueSet(snap.AuthorID),
			workflows.AttrGuild.ValueSet(snap.GuildID),
			workflows.AttrChannel.ValueSet(snap.ChannelID),
		),
	}
	ctx, cancel := context.WithTimeout(ctx, g.StartTimeout)
	defer cancel()
	delay := 250 * time.Millisecond
	for {
		_, err := g.Temporal.ExecuteWorkflow(ctx, opts, workflows.ConversationWorkflowName, workflows.ConversationInput{Message: snap})
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		switch {
		case err == nil:
			g.Logger.Debug("conversation started", "workflow_id", id)
			g.count("started")
			return
		case errors.As(err, &started):
			g.Logger.Debug("conversation already handled", "workflow_id", id)
			g.count("duplicate")
			return
		case ctx.Err() != nil:
			g.Logger.Error("could not start conversation; message dropped", "workflow_id", id, "err", err)
			g.count("dropped")
			return
		}
		g.Logger.Warn("temporal unavailable; retrying", "workflow_id", id, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
			delay = min(delay*2, 10*time.Second)
		}
	}
}

func (g *Gateway) count(outcome string) {
	if g.OnStart != nil {
		g.OnStart(outcome)
	}
}
