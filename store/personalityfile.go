package store

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

//go:embed seed/personalities.yaml
var seedFiles embed.FS

// SeedPersonalities is the example shipped with the binary (two characters), loaded by
// `tzurot dev` when the database has none.
func SeedPersonalities() ([]Personality, error) {
	b, err := seedFiles.ReadFile("seed/personalities.yaml")
	if err != nil {
		return nil, err
	}
	return ParsePersonalities(b, "personalities.yaml")
}

// maxFieldLength bounds every card field: a card is a prompt, and a megabyte of it is a
// mistake, not a character.
const maxFieldLength = 32 << 10

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ParsePersonalities reads a personalities file: YAML or JSON (by extension, or sniffed),
// either a list or {"personalities": [...]}. Every card is validated; the error names the
// card and the field.
func ParsePersonalities(data []byte, name string) ([]Personality, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("the file is not UTF-8 text")
	}
	var wrapped struct {
		Personalities []Personality `json:"personalities" yaml:"personalities"`
	}
	var list []Personality
	trimmed := bytes.TrimSpace(data)
	isJSON := strings.EqualFold(filepath.Ext(name), ".json") || bytes.HasPrefix(trimmed, []byte("{")) || bytes.HasPrefix(trimmed, []byte("["))
	var err error
	switch {
	case isJSON && bytes.HasPrefix(trimmed, []byte("[")):
		err = json.Unmarshal(trimmed, &list)
	case isJSON:
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		err = dec.Decode(&wrapped)
		list = wrapped.Personalities
	default:
		var node yaml.Node
		if err = yaml.Unmarshal(trimmed, &node); err == nil && len(node.Content) > 0 && node.Content[0].Kind == yaml.SequenceNode {
			err = node.Decode(&list)
		} else if err == nil {
			err = node.Decode(&wrapped)
			list = wrapped.Personalities
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid personalities file: %v", name, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s holds no personalities (expected a list, or a `personalities:` key)", name)
	}
	seen := map[string]bool{}
	for i := range list {
		p := &list[i]
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%s, personality #%d (%s): %w", name, i+1, p.Slug, err)
		}
		if seen[p.Slug] {
			return nil, fmt.Errorf("%s: slug %q appears twice", name, p.Slug)
		}
		seen[p.Slug] = true
	}
	return list, nil
}

// Validate checks a card before it is stored, and fills the display name from the name.
func (p *Personality) Validate() error {
	p.Slug = strings.TrimSpace(p.Slug)
	p.Name = strings.TrimSpace(p.Name)
	if p.Slug == "" && p.Name != "" {
		p.Slug = strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(p.Name), "-"), "-")
	}
	switch {
	case p.Name == "":
		return errors.New("name is required")
	case !slugPattern.MatchString(p.Slug):
		return fmt.Errorf("slug %q must be lower-case letters, digits, - or _", p.Slug)
	case len(p.Name) > 100 || len(p.DisplayName) > 100:
		return errors.New("name and display_name must be at most 100 characters")
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	for field, v := range map[string]string{
		"character_info": p.CharacterInfo, "personality_traits": p.Traits, "personality_tone": p.Tone,
		"personality_age": p.Age, "personality_appearance": p.Appearance, "personality_likes": p.Likes,
		"personality_dislikes": p.Dislikes, "conversational_goals": p.ConversationalGoals,
		"conversational_examples": p.ConversationalExamples, "system_prompt": p.SystemPrompt,
		"error_message": p.ErrorMessage, "avatar_url": p.AvatarURL,
	} {
		if len(v) > maxFieldLength {
			return fmt.Errorf("%s is %d bytes; at most %d", field, len(v), maxFieldLength)
		}
	}
	if p.Birthday != "" && !regexp.MustCompile(`^(\d{4}-)?(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$`).MatchString(p.Birthday) {
		return fmt.Errorf("birthday %q must be MM-DD or YYYY-MM-DD", p.Birthday)
	}
	if p.AvatarURL != "" && !strings.HasPrefix(p.AvatarURL, "https://") && !strings.HasPrefix(p.AvatarURL, "http://") {
		return fmt.Errorf("avatar_url %q must be an http(s) URL", p.AvatarURL)
	}
	return nil
}
