package cards

import (
	"encoding/json"
	"fmt"
)

// Limits on what Parse accepts. They bound memory per import, not what a card may say:
// real cards are 50–650 KB PNGs with 2–20 KB of JSON.
const (
	// MaxInputSize is the largest file Parse reads (20 MB).
	MaxInputSize = 20 << 20
	// MaxFieldSize is the largest text field a card may carry (64 KiB); a prompt field
	// bigger than that is a mistake, not a character.
	MaxFieldSize = 64 << 10
	// MaxUnpackedSize caps what a CHARX zip may unpack to, over all entries (20 MB).
	MaxUnpackedSize = 20 << 20
	// MaxZipEntries caps the number of files in a CHARX zip.
	MaxZipEntries = 1000
)

// Card spec names as they appear in the `spec` key.
const (
	SpecV1 = "chara_card_v1" // not a real spec value: a card with only top-level fields
	SpecV2 = "chara_card_v2"
	SpecV3 = "chara_card_v3"
)

// Card is one character card with every V1, V2 and V3 field. Keys a card carries that
// the specs do not name are kept in Unknown (inside `data`) and UnknownTop (beside
// `data`) and written back on export, so a card survives a trip through Tzurot intact.
//
// A known key whose value has the wrong type (say `tags` as one string) is kept raw in
// Unknown under its own name and exported back verbatim while the typed field is empty.
type Card struct {
	Name                    string
	Description             string
	Personality             string
	Scenario                string
	FirstMes                string
	MesExample              string
	CreatorNotes            string
	SystemPrompt            string
	PostHistoryInstructions string
	AlternateGreetings      []string
	CharacterBook           *Book
	Tags                    []string
	Creator                 string
	CharacterVersion        string
	// Extensions holds each extension's JSON verbatim (compacted): tools keep their own
	// data here (`depth_prompt`, `talkativeness`, `world`, `fav`, `risuai`, ...).
	Extensions map[string]json.RawMessage

	// V3 additions.
	Nickname                 string
	CreatorNotesMultilingual map[string]string
	Source                   []string
	GroupOnlyGreetings       []string
	Assets                   []Asset
	// CreationDate and ModificationDate are Unix seconds as the card wrote them.
	CreationDate     json.Number
	ModificationDate json.Number

	// Unknown holds keys inside `data` that no spec names; UnknownTop holds keys beside
	// `data` (V1 leftovers such as `creatorcomment`, `chat`, `create_date`, `fav`).
	Unknown    map[string]json.RawMessage
	UnknownTop map[string]json.RawMessage

	// Origin says what Parse read. It is not part of the card and is never exported.
	Origin Origin
}

// Origin describes the file a card came from.
type Origin struct {
	// Format is "png", "charx" or "json".
	Format string
	// Spec is SpecV1, SpecV2 or SpecV3 as the card declared it (V1 when it had no `data`).
	Spec string
	// Chunk is the PNG text chunk the card was read from: "ccv3" or "chara".
	Chunk string
	// Avatar is the character's picture when the file carried one: the PNG itself for a
	// PNG card, the main icon for a CHARX. AvatarExt is its extension ("png", "webp").
	Avatar    []byte
	AvatarExt string
	// Warnings are things the user may want to know (a newer spec version, a broken
	// ccv3 chunk that a chara chunk stood in for).
	Warnings []string
}

// Asset is one V3 asset: an icon, background, emotion or other file the card refers to.
type Asset struct {
	Type    string
	URI     string
	Name    string
	Ext     string
	Unknown map[string]json.RawMessage
}

// Book is a character lorebook (`character_book`).
type Book struct {
	Name              string
	Description       string
	ScanDepth         json.Number
	TokenBudget       json.Number
	RecursiveScanning *bool
	Extensions        map[string]json.RawMessage
	Entries           []BookEntry
	Unknown           map[string]json.RawMessage
}

// BookEntry is one lorebook entry. Optional flags are pointers so that a card which
// leaves them out exports without them; tool-specific keys (SillyTavern writes twenty
// or more) live in Extensions.
type BookEntry struct {
	Keys           []string
	Content        string
	Extensions     map[string]json.RawMessage
	Enabled        *bool
	InsertionOrder json.Number
	CaseSensitive  *bool
	UseRegex       *bool
	Constant       *bool
	Name           string
	Priority       json.Number
	// ID is a number in V2 and a string in V3; it is kept as written.
	ID            json.RawMessage
	Comment       string
	Selective     *bool
	SecondaryKeys []string
	Position      string
	Unknown       map[string]json.RawMessage
}

// IsEnabled reports whether the entry is on; an entry that does not say is on.
func (e BookEntry) IsEnabled() bool { return e.Enabled == nil || *e.Enabled }

// ParseError is a problem with a file the user gave us, worded for that user
// ("the PNG is truncated"). Render Problem to Discord as it is.
type ParseError struct {
	Problem string
}

func (e *ParseError) Error() string { return e.Problem }

func problem(format string, args ...any) *ParseError {
	return &ParseError{Problem: fmt.Sprintf(format, args...)}
}
