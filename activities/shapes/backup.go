// Package shapes reads the backups users took of their shapes.inc characters before the
// service closed its API: the per-shape folder, the older zip, the single-file export
// envelope and the memories-only export. docs/SHAPES.md describes the formats, what maps
// where and what is uncertain.
//
// Nothing here talks to shapes.inc or to the database: Load turns files into a Backup,
// and the caller decides what to store.
package shapes

import (
	"encoding/json"
	"time"

	"github.com/tzurot/tzurot/store"
)

// Limits on what Load reads. Real backups: a 30 KB config, memories up to a few MB,
// chat histories up to tens of MB.
const (
	// MaxFileSize is the largest single JSON file read (128 MiB).
	MaxFileSize = 128 << 20
	// MaxZipUnpacked caps what a backup zip may unpack to, over all entries (512 MiB).
	MaxZipUnpacked = 512 << 20
	// MaxZipEntries caps the number of files in a backup zip.
	MaxZipEntries = 10000
)

// Backup is one shape as its backup describes it, mapped onto our types.
type Backup struct {
	// Personality is the card. It is private and ownerless; the caller sets both.
	Personality store.Personality
	// Aliases are the shape's `keywords`, the nearest thing shapes.inc had to aliases.
	// They are search terms ("efficiency", "data"), so they are not copied into
	// Personality.Aliases, where each would trigger the character: offer them instead.
	Aliases []string
	Voice   VoiceSettings
	Model   ModelSettings
	// Memories are the long-term memories, in file order, deleted ones skipped.
	Memories  []Memory
	Knowledge []Knowledge
	// UserPersonalization is what the exporting user told the shape about themselves.
	UserPersonalization *Personalization
	// ChatHistory is the raw conversation, when the backup has one.
	ChatHistory []ChatMessage
	// Training is kept as written: no public source describes its entries.
	Training []json.RawMessage
	// Extensions are config fields with no column, for personalities.extensions (JSONB):
	// the greeting, history, catchphrases, wack/sleep messages, timezone, shapes ids...
	Extensions map[string]any
	// MemoriesOnly is set for a memories-only export: Personality then has only a name
	// and slug, and the memories belong to an existing character.
	MemoriesOnly bool
	// Layout names the layout that was read: "folder", "zip", "envelope", "memories".
	Layout string
	// Warnings are things the user should hear about; none of them stopped the import.
	Warnings []string
}

// VoiceSettings are the shape's ElevenLabs-style voice settings. Pointers are nil when
// the config leaves a value out.
type VoiceSettings struct {
	Model      string
	ID         string
	SampleURL  string // voice_file: a sample of the voice
	Stability  *float64
	Similarity *float64
	Style      *float64
	Frequency  *float64 // how often the shape answered with voice (0–1)
}

// ModelSettings are the shape's LLM settings.
type ModelSettings struct {
	// Params is preset-shaped, keyed by our parameter names: model, temperature, top_p,
	// top_k (an int), frequency_penalty, presence_penalty, repetition_penalty, min_p,
	// top_a. Only values the config sets (not null) appear.
	Params        map[string]any
	FallbackModel string
	// ContextMessages is stm_window: how many recent messages the shape saw.
	ContextMessages int
	LongTermMemory  *bool
	// MemoryThreshold and MemoryLimit are ltm_threshold and ltm_max_retrieved_summaries.
	MemoryThreshold *float64
	MemoryLimit     int
}

// Memory is one long-term memory: a summary shapes.inc wrote of a conversation.
type Memory struct {
	ID        string
	Content   string
	CreatedAt time.Time // zero when the backup gives no usable time
	// Senders are shapes.inc user UUIDs, not Discord ids.
	Senders    []string
	ChannelID  string
	GuildID    string
	Type       string // "automatic", "manual", or as written
	MessageIDs []string
}

// Knowledge is one knowledge-base ("story") entry.
type Knowledge struct {
	ID        string
	Type      string // general, command, relationship, personal; "" when null
	Title     string
	Content   string
	URLs      []string
	OriginURL string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Personalization is what one user told the shape about themselves.
type Personalization struct {
	UserID        string
	PreferredName string
	Pronouns      string
	Backstory     string
	// Params are the user's engine_* overrides, named as in ModelSettings.Params.
	Params map[string]any
}

// ChatMessage is one exchange of the chat history: the user's turn fills Message, the
// shape's Reply.
type ChatMessage struct {
	ID             string
	Message        string
	Reply          string
	At             time.Time
	AttachmentURL  string
	AttachmentType string
	VoiceReplyURL  string
}
