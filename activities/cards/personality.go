package cards

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/tzurot/tzurot/store"
)

// Extra is every part of a card that has no column in store.Personality. The lead stores
// it as JSONB in personalities.extensions; FromPersonality takes it back, so a card that
// goes in and comes out again loses nothing.
type Extra struct {
	Scenario                string                     `json:"scenario,omitempty"`
	FirstMessage            string                     `json:"first_mes,omitempty"`
	AlternateGreetings      []string                   `json:"alternate_greetings,omitempty"`
	GroupOnlyGreetings      []string                   `json:"group_only_greetings,omitempty"`
	PostHistoryInstructions string                     `json:"post_history_instructions,omitempty"`
	CreatorNotes            string                     `json:"creator_notes,omitempty"`
	Tags                    []string                   `json:"tags,omitempty"`
	Creator                 string                     `json:"creator,omitempty"`
	CharacterVersion        string                     `json:"character_version,omitempty"`
	Nickname                string                     `json:"nickname,omitempty"`
	CreationDate            json.Number                `json:"creation_date,omitempty"`
	ModificationDate        json.Number                `json:"modification_date,omitempty"`
	CharacterBook           *Book                      `json:"character_book,omitempty"`
	Extensions              map[string]json.RawMessage `json:"extensions,omitempty"`
	Unknown                 map[string]json.RawMessage `json:"unknown,omitempty"`
	UnknownTop              map[string]json.RawMessage `json:"unknown_top,omitempty"`
	// Optional V3 lists keep "absent" (null) apart from "empty" ([]).
	CreatorNotesMultilingual map[string]string `json:"creator_notes_multilingual"`
	Source                   []string          `json:"source"`
	Assets                   []Asset           `json:"assets"`
}

// UnmarshalJSON reads Extra back from the database. JSONB re-spaces stored JSON, so raw
// values are compacted again to compare equal with what Parse produced.
func (e *Extra) UnmarshalJSON(b []byte) error {
	type plain Extra
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	for _, m := range []map[string]json.RawMessage{p.Extensions, p.Unknown, p.UnknownTop} {
		compactMap(m)
	}
	*e = Extra(p)
	return nil
}

// tzurotExtension is what FromPersonality keeps in extensions.tzurot: our columns that no
// card field holds, so a card exported from Tzurot and imported again gets them back.
type tzurotExtension struct {
	Slug                string   `json:"slug,omitempty"`
	Age                 string   `json:"personality_age,omitempty"`
	Appearance          string   `json:"personality_appearance,omitempty"`
	Tone                string   `json:"personality_tone,omitempty"`
	Likes               string   `json:"personality_likes,omitempty"`
	Dislikes            string   `json:"personality_dislikes,omitempty"`
	ConversationalGoals string   `json:"conversational_goals,omitempty"`
	ErrorMessage        string   `json:"error_message,omitempty"`
	Birthday            string   `json:"birthday,omitempty"`
	Aliases             []string `json:"aliases,omitempty"`
}

const tzurotKey = "tzurot"

// Labels for text folded into a bigger field. ToPersonality folds the scenario into the
// character info and the greeting into the examples; FromPersonality folds our extra
// columns into the description, so other tools show them.
const (
	scenarioLabel = "Scenario"
	greetingLabel = "<START>\n{{char}}"
)

func (t *tzurotExtension) folded() []labelled {
	return []labelled{
		{"Age", t.Age}, {"Appearance", t.Appearance}, {"Tone", t.Tone}, {"Likes", t.Likes},
		{"Dislikes", t.Dislikes}, {"Conversational goals", t.ConversationalGoals},
	}
}

// ToPersonality maps a card onto our columns (see the package doc for the table) and
// returns everything else as Extra. The personality is private and has no owner: the
// caller sets both.
func ToPersonality(c *Card) (store.Personality, Extra) {
	x := Extra{
		Scenario: c.Scenario, FirstMessage: c.FirstMes, AlternateGreetings: c.AlternateGreetings,
		GroupOnlyGreetings: c.GroupOnlyGreetings, PostHistoryInstructions: c.PostHistoryInstructions,
		CreatorNotes: c.CreatorNotes, Tags: c.Tags, Creator: c.Creator, CharacterVersion: c.CharacterVersion,
		Nickname: c.Nickname, CreationDate: c.CreationDate, ModificationDate: c.ModificationDate,
		CharacterBook: c.CharacterBook, Extensions: c.Extensions, Unknown: c.Unknown, UnknownTop: c.UnknownTop,
		CreatorNotesMultilingual: c.CreatorNotesMultilingual, Source: c.Source, Assets: c.Assets,
	}
	p := store.Personality{
		Name:         c.Name,
		DisplayName:  c.Nickname,
		Traits:       c.Personality,
		SystemPrompt: c.SystemPrompt,
		IsNSFW:       hasTag(c.Tags, "nsfw"),
		AvatarURL:    iconURL(c.Assets),
	}
	if strings.TrimSpace(p.DisplayName) == "" {
		p.DisplayName = p.Name
	}
	p.CharacterInfo = c.Description
	var t tzurotExtension
	if raw, ok := c.Extensions[tzurotKey]; ok && json.Unmarshal(raw, &t) == nil {
		// Our own export folded these columns into the description. If the description
		// still ends with exactly that text, take it apart again; if someone edited it
		// elsewhere, their text wins and the columns stay empty (never both, never lost).
		if base, ok := unfold(c.Description, t.folded()); ok {
			p.CharacterInfo = base
			p.Age, p.Appearance, p.Tone, p.Likes, p.Dislikes = t.Age, t.Appearance, t.Tone, t.Likes, t.Dislikes
			p.ConversationalGoals = t.ConversationalGoals
		}
		p.Slug, p.ErrorMessage, p.Birthday, p.Aliases = t.Slug, t.ErrorMessage, t.Birthday, t.Aliases
	}
	if p.Slug == "" {
		p.Slug = Slugify(p.Name)
	}
	p.CharacterInfo = fold(p.CharacterInfo, []labelled{{scenarioLabel, c.Scenario}})
	p.ConversationalExamples = fold(c.MesExample, []labelled{{greetingLabel, c.FirstMes}})
	return p, x
}

// FromPersonality builds a card from our columns and the Extra stored beside them. With
// an empty Extra it makes a fresh card; our columns that no card field holds are folded
// into the description and kept in extensions.tzurot.
func FromPersonality(p store.Personality, x Extra) *Card {
	c := &Card{
		Name: p.Name, Personality: p.Traits, SystemPrompt: p.SystemPrompt,
		PostHistoryInstructions: x.PostHistoryInstructions, AlternateGreetings: x.AlternateGreetings,
		GroupOnlyGreetings: x.GroupOnlyGreetings, CreatorNotes: x.CreatorNotes, Tags: x.Tags,
		Creator: x.Creator, CharacterVersion: x.CharacterVersion, CreationDate: x.CreationDate,
		ModificationDate: x.ModificationDate, CharacterBook: x.CharacterBook, Unknown: x.Unknown,
		UnknownTop: x.UnknownTop, CreatorNotesMultilingual: x.CreatorNotesMultilingual, Source: x.Source,
		Assets: withIcon(x.Assets, p.AvatarURL),
	}
	c.Nickname = nickname(p, x)
	c.Description, c.Scenario = p.CharacterInfo, ""
	if x.Scenario != "" {
		if base, ok := unfold(p.CharacterInfo, []labelled{{scenarioLabel, x.Scenario}}); ok {
			c.Description, c.Scenario = base, x.Scenario
		}
	}
	c.MesExample = p.ConversationalExamples
	if x.FirstMessage != "" {
		if base, ok := unfold(p.ConversationalExamples, []labelled{{greetingLabel, x.FirstMessage}}); ok {
			c.MesExample, c.FirstMes = base, x.FirstMessage
		}
	}
	if p.IsNSFW && !hasTag(c.Tags, "nsfw") {
		c.Tags = append(append([]string{}, c.Tags...), "NSFW")
	}
	t := tzurotExtension{
		Age: p.Age, Appearance: p.Appearance, Tone: p.Tone, Likes: p.Likes, Dislikes: p.Dislikes,
		ConversationalGoals: p.ConversationalGoals, ErrorMessage: p.ErrorMessage, Birthday: p.Birthday,
		Aliases: p.Aliases,
	}
	if p.Slug != Slugify(p.Name) {
		t.Slug = p.Slug
	}
	c.Description = fold(c.Description, t.folded())
	c.Extensions = withTzurot(x.Extensions, t)
	return c
}

// nickname restores the card's nickname: the stored one while the display name is still
// what it gave, else the display name when it differs from the name.
func nickname(p store.Personality, x Extra) string {
	shown := strings.TrimSpace(x.Nickname)
	if shown == "" {
		shown = p.Name
	}
	switch {
	case p.DisplayName == shown || p.DisplayName == "":
		return x.Nickname
	case p.DisplayName != p.Name:
		return p.DisplayName
	}
	return ""
}

func withTzurot(ext map[string]json.RawMessage, t tzurotExtension) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(ext)+1)
	for k, v := range ext {
		if k != tzurotKey {
			out[k] = v
		}
	}
	if b, _ := marshal(t); string(b) != "{}" {
		out[tzurotKey] = b
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// iconURL is the http(s) URI of the main icon, if the card names one.
func iconURL(assets []Asset) string {
	if a := mainIcon(assets); a != nil && isHTTP(a.URI) {
		return a.URI
	}
	return ""
}

// withIcon points the main icon at the avatar URL: it replaces an http(s) icon, adds one
// when there is none, and leaves embedded or default icons alone (the PNG is the avatar).
func withIcon(assets []Asset, avatarURL string) []Asset {
	if avatarURL == "" {
		return assets
	}
	out := append([]Asset{}, assets...)
	if a := mainIcon(out); a != nil {
		if isHTTP(a.URI) {
			a.URI = avatarURL
		}
		return out
	}
	return append(out, Asset{Type: "icon", URI: avatarURL, Name: "main", Ext: extOf(avatarURL)})
}

func isHTTP(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

func extOf(u string) string {
	u, _, _ = strings.Cut(u, "?")
	if i := strings.LastIndexByte(u, '.'); i >= 0 && i > strings.LastIndexByte(u, '/') && len(u)-i <= 5 {
		return strings.ToLower(u[i+1:])
	}
	return "unknown"
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if strings.EqualFold(strings.TrimSpace(t), tag) {
			return true
		}
	}
	return false
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// Slugify makes a slug our store accepts from a card name: lower-case letters and digits
// joined by "-". A name with none of those (say, all Japanese) gives "character".
func Slugify(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	if s == "" {
		return "character"
	}
	return s
}

// labelled is one piece of text folded into a bigger field under a label.
type labelled struct{ label, value string }

// fold appends each non-empty part as a paragraph "label: value".
func fold(base string, parts []labelled) string {
	var b strings.Builder
	b.WriteString(base)
	for _, p := range parts {
		if p.value == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(p.label + ": " + p.value)
	}
	return b.String()
}

// unfold undoes fold when text ends exactly as fold would have left it.
func unfold(text string, parts []labelled) (string, bool) {
	suffix := fold("", parts)
	if suffix == "" {
		return text, true
	}
	if text == suffix {
		return "", true
	}
	base, ok := strings.CutSuffix(text, "\n\n"+suffix)
	return base, ok
}
