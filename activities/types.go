package activities

import "time"

// MessageSnapshot is the trigger a workflow starts from: what the gateway saw, small and
// self-contained. Context (history, references) is fetched by activities, never here.
type MessageSnapshot struct {
	ID                  string
	ChannelID           string
	GuildID             string // empty in DMs
	ParentChannelID     string // set when ChannelID is a thread: webhooks live on the parent
	GuildName           string // for the prompt's "where" line, from the gateway's cache
	ChannelName         string
	ParentChannelName   string
	AuthorID            string
	AuthorUsername      string
	AuthorDisplayName   string
	Content             string
	AttachmentURLs      []string // kept for histories recorded before Attachments
	Attachments         []Attachment
	ReferencedMessageID string // the message this one replies to, if any
	CreatedAt           time.Time
	// ChannelNSFW says the channel (a thread: its parent) is age-restricted; using the bot
	// there verifies the author for NSFW characters.
	ChannelNSFW bool
}

// PersonalityRef names one personality that should answer, and why.
type PersonalityRef struct {
	ID          string
	Slug        string
	DisplayName string
	AvatarURL   string
	Reason      string // "reply", "mention" or "activation"
}

// UserRef is the Tzurot user behind the Discord author and the persona they speak as.
type UserRef struct {
	ID          string
	PersonaID   string
	DisplayName string // the persona's preferred name, else the Discord display name
	Pronouns    string
	About       string // the persona's description
	Timezone    string // IANA zone for the prompt's date line
}

// ResolvePersonalitiesInput asks who answers a message.
type ResolvePersonalitiesInput struct {
	Message MessageSnapshot
	Max     int // cap on personalities per message; 0 means the default
}

// ResolvePersonalitiesResult lists who answers, in delivery order (reply target first,
// then mentions left to right), and the user they answer.
type ResolvePersonalitiesResult struct {
	Personalities []PersonalityRef
	User          UserRef
	// Notices are messages for the author instead of an answer (an NSFW character they
	// are not verified for), each complete and ready to post, in trigger order.
	Notices []string
}

// ResolveKeyInput asks which API key pays for a personality's answer to a user.
type ResolveKeyInput struct {
	UserID        string
	PersonalityID string
}

// KeyHandle identifies an API key without carrying it: CallLLM decrypts the key the
// handle names right before the HTTP request, so no secret enters workflow history.
type KeyHandle struct {
	Provider    string
	OwnerUserID string // empty for the system key
	KeyVersion  int
	Guest       bool // the operator's key pays (free tier)
}

// PriorReply is what an earlier personality answered to the same message, so later ones
// in a multi-character message see it.
type PriorReply struct {
	PersonalityID string
	DisplayName   string
	Text          string
}

// FetchContextInput gathers the conversation around a message for one personality.
type FetchContextInput struct {
	WorkflowID   string
	Message      MessageSnapshot
	Personality  PersonalityRef
	User         UserRef
	PriorReplies []PriorReply
	Guest        bool // the turn runs on the free tier (its presets apply)
}

// FetchContextResult summarises what was stored for CallLLM; the context itself stays in
// PostgreSQL (turn_contexts) to keep payloads small.
type FetchContextResult struct {
	Messages   int
	Tokens     int
	References int
}

// RetrieveMemoriesInput asks for the memories relevant to a message.
type RetrieveMemoriesInput struct {
	Query         string
	PersonaID     string
	PersonalityID string
	// Limit and ScoreThreshold are the preset's memory_limit and memory_score_threshold;
	// unset (0, nil), the activity resolves them from the user's presets itself.
	Limit          int
	ScoreThreshold *float64
	// UserID is the persona's owner (unset: looked up); Guest says the turn runs on the
	// free tier (its presets apply).
	UserID string
	Guest  bool
}

// RetrieveMemoriesResult carries memory ids only; CallLLM loads their text.
type RetrieveMemoriesResult struct {
	MemoryIDs []string
	// Skipped says why no memory was looked for ("fresh", "no embedder", "embedder
	// unavailable: ..."), for operators reading the history.
	Skipped string
}

// CallLLMInput asks for one personality's reply.
type CallLLMInput struct {
	WorkflowID  string
	Message     MessageSnapshot
	Personality PersonalityRef
	User        UserRef
	Key         KeyHandle
	MemoryIDs   []string
}

// CallLLMResult is the generated reply and what it cost.
type CallLLMResult struct {
	Text         string
	Provider     string
	Model        string
	TokensIn     int
	TokensOut    int
	FinishReason string
	Attempts     int    // generations it took (empty or echoing replies are generated again)
	Footer       string // shown under the reply (e.g. the model), not part of it
	Transcript   string // what a voice message said, recorded as the user's turn
}

// DeliverReplyInput posts a reply through the channel's webhook as the personality.
type DeliverReplyInput struct {
	WorkflowID  string
	Message     MessageSnapshot
	Personality PersonalityRef
	Text        string
	Footer      string // appended to the last chunk
	// ErrorMessage delivers the personality's own error message instead of Text (with a
	// reference the user can quote to an operator).
	ErrorMessage bool
	// Notice, with ErrorMessage, replaces the character's error message with an
	// explanation the user can act on (the free tier's limits).
	Notice string
}

// DeliverReplyResult lists the Discord message ids of the delivered chunks, in order.
type DeliverReplyResult struct {
	MessageIDs []string
}

// RecordTurnInput stores both sides of a finished turn and its usage.
type RecordTurnInput struct {
	WorkflowID  string
	Message     MessageSnapshot
	Personality PersonalityRef
	User        UserRef
	Key         KeyHandle
	Reply       CallLLMResult
	MessageIDs  []string
}

// RecordTurnResult says what became of the turn's memory.
type RecordTurnResult struct {
	MemoryID string // the memory the turn wrote ("" when none)
	// MemorySkipped says why no memory was written ("incognito", "empty", ...); a memory
	// written without a vector ("pending") is embedded later by the re-embed job.
	MemorySkipped string
}

// PostNoticeInput asks for a short notice to the author (e.g. why a character did not
// answer) as the bot itself. Index tells several notices of one message apart.
type PostNoticeInput struct {
	WorkflowID string
	Message    MessageSnapshot
	Index      int
	Text       string
}

// PostNoticeResult names the posted message.
type PostNoticeResult struct {
	MessageID string
}
