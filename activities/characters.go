package activities

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/tzurot/tzurot/activities/cards"
	"github.com/tzurot/tzurot/activities/shapes"
	"github.com/tzurot/tzurot/store"
)

// Characters users bring in: a character card (PNG, CHARX, JSON) or a shapes.inc backup
// becomes a store.NewCharacter; a stored character becomes a card again.

const (
	// shapesExtensionKey holds, in the card's extensions, what a shapes.inc backup
	// brought that no column holds (voice, model settings, knowledge...).
	shapesExtensionKey = "shapes_inc"
	// tzurotExtensionKey is the extension cards.FromPersonality writes from our columns;
	// an import reads it back into them, so it is not stored a second time.
	tzurotExtensionKey = "tzurot"
)

// CardCharacter turns a parsed card into a new private character of ownerID. What the
// card carries beyond our columns (cards.Extra) goes into the extensions; the card's own
// picture is kept as the character's uploaded avatar.
func CardCharacter(c *cards.Card, ownerID string) (store.NewCharacter, error) {
	p, x := cards.ToPersonality(c)
	x.Assets = withoutDerivedIcon(p, x)
	delete(x.Extensions, tzurotExtensionKey)
	if len(x.Extensions) == 0 {
		x.Extensions = nil
	}
	p.OwnerID, p.IsPublic = ownerID, false
	ext, err := json.Marshal(x)
	if err != nil {
		return store.NewCharacter{}, fmt.Errorf("card %q: %w", c.Name, err)
	}
	n := store.NewCharacter{Personality: p, Extensions: ext}
	if len(c.Origin.Avatar) > 0 {
		n.Avatar = &store.Avatar{ContentType: imageType(c.Origin.AvatarExt), Data: c.Origin.Avatar}
	}
	return n, nil
}

// withoutDerivedIcon drops the main icon that cards.FromPersonality adds from the avatar
// URL, when exporting again re-creates it exactly: the avatar URL column holds it
// already, and keeping it would change the extensions on every round trip.
func withoutDerivedIcon(p store.Personality, x cards.Extra) []cards.Asset {
	n := len(x.Assets)
	if n == 0 || p.AvatarURL == "" || x.Assets[n-1].URI != p.AvatarURL {
		return x.Assets
	}
	trial := x
	trial.Assets = nil
	if n > 1 {
		trial.Assets = x.Assets[:n-1]
	}
	if reflect.DeepEqual(cards.FromPersonality(p, trial).Assets, x.Assets) {
		return trial.Assets
	}
	return x.Assets
}

func imageType(ext string) string {
	switch strings.ToLower(ext) {
	case "jpg", "jpeg":
		return "image/jpeg"
	case "":
		return "application/octet-stream"
	}
	return "image/" + strings.ToLower(ext)
}

// CharacterCard is the card of a stored character: its columns and the extensions an
// import or an earlier edit stored beside them.
func CharacterCard(p store.Personality, ext json.RawMessage) (*cards.Card, error) {
	var x cards.Extra
	if len(bytes.TrimSpace(ext)) > 0 {
		if err := json.Unmarshal(ext, &x); err != nil {
			return nil, fmt.Errorf("extensions of %s: %w", p.Slug, err)
		}
	}
	return cards.FromPersonality(p, x), nil
}

// shapesData is what a shapes.inc import keeps under extensions.shapes_inc.
type shapesData struct {
	Layout          string                  `json:"layout"`
	Voice           shapes.VoiceSettings    `json:"voice"`
	Model           shapes.ModelSettings    `json:"model"`
	Config          map[string]any          `json:"config,omitempty"`
	Keywords        []string                `json:"keywords,omitempty"`
	Knowledge       []shapes.Knowledge      `json:"knowledge,omitempty"`
	Personalization *shapes.Personalization `json:"user_personalization,omitempty"`
}

// ShapesCharacter turns a shapes.inc backup into a new private character of ownerID with
// its memories for personaID. The shape's keywords are not made aliases (they are search
// terms; the caller offers them). Voice and model settings, knowledge and the config
// fields without a column are kept in the extensions. The chat history is not imported:
// it belongs to channels this bot never saw.
func ShapesCharacter(b *shapes.Backup, ownerID, personaID string) (store.NewCharacter, error) {
	if b.MemoriesOnly {
		return store.NewCharacter{}, errors.New("this export holds memories only, not the character; import the shape's full backup (its folder or zip)")
	}
	p := b.Personality
	p.OwnerID, p.IsPublic, p.Aliases = ownerID, false, nil
	raw, err := json.Marshal(shapesData{Layout: b.Layout, Voice: b.Voice, Model: b.Model, Config: b.Extensions,
		Keywords: b.Aliases, Knowledge: b.Knowledge, Personalization: b.UserPersonalization})
	if err != nil {
		return store.NewCharacter{}, fmt.Errorf("shape %q: %w", p.Name, err)
	}
	ext, err := json.Marshal(cards.Extra{Extensions: map[string]json.RawMessage{shapesExtensionKey: raw}})
	if err != nil {
		return store.NewCharacter{}, err
	}
	n := store.NewCharacter{Personality: p, Extensions: ext, PersonaID: personaID}
	for _, m := range b.Memories {
		n.Memories = append(n.Memories, store.ImportedMemory{Content: m.Content, CreatedAt: m.CreatedAt})
	}
	return n, nil
}
