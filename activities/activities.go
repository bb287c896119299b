// Package activities implements every Temporal activity of Tzurot. Activities are methods
// on one struct that holds their dependencies (the store, Discord REST, the LLM client);
// workers/ builds it and registers it, workflows/ refers to its methods through a nil
// pointer. Decisions (mention matching, ordering, prompt assembly) are pure functions
// beside the activities; the activities only fetch, call and store around them.
package activities

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities/llm"
	"github.com/tzurot/tzurot/store"
)

// Activities holds what the activities need. Every field is set by workers/.
type Activities struct {
	Store    *store.Store
	Discord  Discord
	LLM      *llm.Client
	Keys     KeySource
	Embedder Embedder // nil: no long-term memory retrieval
	Config   Config
	Logger   *slog.Logger
	Now      func() time.Time
	// HTTP downloads attachments (Discord's CDN); nil uses http.DefaultClient.
	HTTP *http.Client
	// Guest is the free tier's policy: which models the operator's key runs for guests.
	Guest GuestPolicy
	// Meter counts tokens and errors for Prometheus (nil: not counted).
	Meter Meter
	// Temporal lets the erasure cancel a user's running conversations (nil: it cannot).
	Temporal WorkflowControl
}

// Config are the tunables of a conversation turn.
type Config struct {
	Provider         string // provider of the system key ("openrouter", "openai-compatible")
	Model            string // model used when no preset says otherwise
	MaxPersonalities int    // per message
	HistoryMessages  int    // channel messages fetched for context
	ContextTokens    int    // token budget of the chat log in the prompt
	MemoryLimit      int    // memories retrieved per turn
	MaxReplyTokens   int
	ReferenceTokens  int // token share of referenced messages
	MemoryTokens     int // token share of memories
	MaxReferences    int // referenced messages followed, breadth-first
	// Vision says the model takes images; else VisionModel describes them (if set).
	Vision             bool
	VisionModel        string
	TranscriptionModel string // voice messages and audio files ("" = not transcribed)
	MaxImages          int
	MaxAge             time.Duration // older chat lines are left out of the context (0 = no limit)
}

// DefaultConfig is what a fresh install runs with.
func DefaultConfig() Config {
	return Config{
		Provider:           "openrouter",
		Model:              "meta-llama/llama-3.3-70b-instruct:free",
		MaxPersonalities:   5,
		HistoryMessages:    50,
		ContextTokens:      6000,
		MemoryLimit:        8,
		MaxReplyTokens:     1024,
		ReferenceTokens:    1500,
		MemoryTokens:       1000,
		MaxReferences:      10,
		VisionModel:        "google/gemini-2.0-flash-001",
		TranscriptionModel: "whisper-1",
		MaxImages:          2,
	}
}

// Discord is the REST surface activities use. The discord package implements it over
// discordgo; it knows Discord's limits (message length, webhook names).
type Discord interface {
	// RecentMessages returns up to limit messages of a channel older than beforeID
	// (all recent ones when beforeID is empty), newest first.
	RecentMessages(ctx context.Context, channelID, beforeID string, limit int) ([]ChannelMessage, error)
	// SendTyping shows the typing indicator for about ten seconds.
	SendTyping(ctx context.Context, channelID string) error
	// Post sends one chunk as the personality: through the channel's webhook in a guild
	// (the parent's webhook, addressed to the thread, in a thread), as the bot in a DM.
	Post(ctx context.Context, t PostTarget, content string) (messageID string, err error)
	// Chunk splits text into Discord-sized messages without breaking code blocks.
	Chunk(text string) []string
	// BotUserID is the bot's own user id (its earlier messages are assistant turns).
	BotUserID() string
	// Message reads one message (a reply's or a link's target).
	Message(ctx context.Context, channelID, messageID string) (ChannelMessage, error)
	// Notice posts a short message as the bot itself, replying to replyTo, pinging nobody.
	Notice(ctx context.Context, channelID, guildID, replyTo, text string) (messageID string, err error)
}

// ChannelMessage is one message as read back from Discord.
type ChannelMessage struct {
	ID          string
	AuthorID    string
	AuthorName  string
	IsBot       bool
	WebhookID   string
	Content     string
	CreatedAt   time.Time
	ReferenceID string // the message this one replies to
	// ReferenceChannelID is the channel of ReferenceID (replies can cross into threads).
	ReferenceChannelID string
	Attachments        []Attachment
}

// Attachment is a file on a message.
type Attachment struct {
	URL         string
	Filename    string
	ContentType string
	Size        int
}

// PostTarget says where and as whom a chunk is posted.
type PostTarget struct {
	ChannelID       string
	GuildID         string
	ParentChannelID string
	Username        string
	AvatarURL       string
}

// KeySource turns a KeyHandle into the API key, inside the activity that makes the call.
type KeySource interface {
	// Resolve picks the key that pays for a user's turn with a personality.
	Resolve(ctx context.Context, userID, personalityID string) (KeyHandle, error)
	// Reveal returns the key and base URL a handle names. The result must never be
	// logged, returned from an activity or put in an error.
	Reveal(ctx context.Context, h KeyHandle) (apiKey, baseURL string, err error)
}

// Embedder turns text into a vector of store.EmbeddingDim dimensions.
type Embedder interface {
	Embed(ctx context.Context, text string) ([]float32, error)
}

// Meter receives what operators chart: tokens spent and steps that failed.
type Meter interface {
	Tokens(direction string, guest bool, n int)
	StepError(step, kind string)
}

// Error types the workflow and retry policies refer to by name.
const (
	ErrTypeLLMAuth       = "LLMAuth"
	ErrTypeLLMCredit     = "LLMCredit"
	ErrTypeLLMBadRequest = "LLMBadRequest"
	ErrTypeLLMEmpty      = "LLMEmpty"
	ErrTypeDiscord       = "DiscordRejected"
	ErrTypeNoPersonality = "PersonalityGone"
)

// NonRetryable marks an error no retry can fix, so Temporal stops at once.
func NonRetryable(kind string, err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), kind, nil)
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Activities) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// SystemKey is the KeySource for the operator's own key (the only source until BYOK):
// every turn is a guest turn paid by the operator.
type SystemKey struct {
	Provider string
	APIKey   string
	BaseURL  string
}

// Resolve implements KeySource.
func (k SystemKey) Resolve(ctx context.Context, userID, personalityID string) (KeyHandle, error) {
	if k.APIKey == "" {
		return KeyHandle{}, NonRetryable(ErrTypeLLMAuth, errors.New("no API key is configured for the bot (set LLM_API_KEY)"))
	}
	return KeyHandle{Provider: k.Provider, KeyVersion: 0, Guest: true}, nil
}

// Reveal implements KeySource.
func (k SystemKey) Reveal(ctx context.Context, h KeyHandle) (string, string, error) {
	if h.OwnerUserID != "" {
		return "", "", NonRetryable(ErrTypeLLMAuth, errors.New("user keys are not supported by the system key source"))
	}
	return k.APIKey, k.BaseURL, nil
}
