package cards

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// v1Keys are the six fields of a V1 card. Real V2 cards still repeat them at the top level;
// `data` wins where both exist, and they fill in what `data` lacks.
var v1Keys = []string{"name", "description", "personality", "scenario", "first_mes", "mes_example"}

// fields lists the card's keys inside `data`, in V2 order followed by the V3 additions.
func (c *Card) fields() []field {
	return []field{
		{"name", &c.Name, true},
		{"description", &c.Description, true},
		{"personality", &c.Personality, true},
		{"scenario", &c.Scenario, true},
		{"first_mes", &c.FirstMes, true},
		{"mes_example", &c.MesExample, true},
		{"creator_notes", &c.CreatorNotes, true},
		{"system_prompt", &c.SystemPrompt, true},
		{"post_history_instructions", &c.PostHistoryInstructions, true},
		{"alternate_greetings", &c.AlternateGreetings, true},
		{"character_book", &c.CharacterBook, false},
		{"tags", &c.Tags, true},
		{"creator", &c.Creator, true},
		{"character_version", &c.CharacterVersion, true},
		{"extensions", &c.Extensions, true},
		{"nickname", &c.Nickname, false},
		{"creator_notes_multilingual", &c.CreatorNotesMultilingual, false},
		{"source", &c.Source, false},
		{"group_only_greetings", &c.GroupOnlyGreetings, true},
		{"assets", &c.Assets, false},
		{"creation_date", &c.CreationDate, false},
		{"modification_date", &c.ModificationDate, false},
	}
}

// decodeCardJSON reads a V1, V2 or V3 card from its JSON text.
func decodeCardJSON(b []byte) (*Card, error) {
	switch firstByte(b) {
	case '{':
	case '[':
		return nil, problem("this JSON file is a list, not a character card")
	default:
		return nil, problem("this file is not a character card: expected a PNG, a CHARX or a JSON card")
	}
	top, err := decodeObject(b)
	if err != nil {
		return nil, problem("the card is not valid JSON (%s)", jsonProblem(err))
	}
	c := &Card{}
	spec := stringValue(top["spec"])
	version := stringValue(top["spec_version"])
	if strings.HasPrefix(spec, "lorebook") {
		return nil, problem("this is a lorebook, not a character card")
	}
	delete(top, "spec")
	delete(top, "spec_version")
	data, hasData := top["data"]
	if hasData && firstByte(data) == '{' {
		if err := c.decodeV2(top, data); err != nil {
			return nil, err
		}
		c.Origin.Spec = spec
		if spec != SpecV2 && spec != SpecV3 {
			c.Origin.Warnings = append(c.Origin.Warnings, fmt.Sprintf("the card names an unknown spec %q; it was read as a V2/V3 card", spec))
			c.Origin.Spec = SpecV2
		}
	} else {
		if hasData {
			return nil, problem("the card's data is not a JSON object")
		}
		o := top
		o.take(c.fields())
		c.UnknownTop = o.rest()
		c.Origin.Spec = SpecV1
	}
	if c.CreatorNotes == "" && c.Unknown["creator_notes"] == nil {
		if note := stringValue(c.UnknownTop["creatorcomment"]); note != "" {
			c.CreatorNotes = note
		}
	}
	if v, err := strconv.ParseFloat(version, 64); err == nil && v > 3.0 {
		c.Origin.Warnings = append(c.Origin.Warnings, fmt.Sprintf("the card was made for a newer card format (%s); features added after 3.0 may be missing", version))
	}
	if strings.TrimSpace(c.Name) == "" {
		return nil, problem("the card has no name")
	}
	return c, nil
}

func (c *Card) decodeV2(top object, data json.RawMessage) error {
	o, err := decodeObject(data)
	if err != nil {
		return problem("the card's data is not valid JSON (%s)", jsonProblem(err))
	}
	for _, k := range v1Keys {
		if _, ok := o[k]; !ok {
			if v, ok := top[k]; ok {
				o[k] = v
			}
		}
		delete(top, k)
	}
	delete(top, "data")
	o.take(c.fields())
	c.Unknown = o.rest()
	c.UnknownTop = top.rest()
	return nil
}

// ExportJSON returns the card as Character Card V3 JSON, unknown keys included.
func ExportJSON(c *Card) ([]byte, error) {
	return encodeCard(c, SpecV3)
}

// encodeCard writes a V3 card, or a V2 card for the `chara` chunk. The V2 form repeats the
// six V1 fields at the top level, as SillyTavern does, for readers that only know V1.
// Both carry every field: a V2 reader ignores the V3 keys it does not know.
func encodeCard(c *Card, spec string) ([]byte, error) {
	data := newObjWriter()
	data.fields(c.fields(), c.Unknown)
	data.unknown(c.Unknown)
	dataJSON, err := data.bytes()
	if err != nil {
		return nil, fmt.Errorf("card %q: %w", c.Name, err)
	}
	top := newObjWriter()
	top.value("spec", spec)
	if spec == SpecV3 {
		top.value("spec_version", "3.0")
	} else {
		top.value("spec_version", "2.0")
		for _, f := range c.fields()[:len(v1Keys)] {
			top.value(f.key, *(f.ptr.(*string)))
		}
	}
	top.raw("data", dataJSON)
	top.unknown(c.UnknownTop, "spec", "spec_version", "data")
	out, err := top.bytes()
	if err != nil {
		return nil, fmt.Errorf("card %q: %w", c.Name, err)
	}
	return out, nil
}

func stringValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// jsonProblem words a JSON error for a person: where it broke, not Go's type names.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("it breaks near character %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("%q has the wrong type", e.Field)
	}
	if strings.Contains(err.Error(), "unexpected end") {
		return "it stops in the middle"
	}
	return "it could not be read"
}

// Talkativeness returns how chatty the character is meant to be (0–1), from
// extensions.talkativeness or the V1 top-level key; cards write it as a number or as a
// string such as "0.5".
func (c *Card) Talkativeness() (float64, bool) {
	for _, raw := range []json.RawMessage{c.Extensions["talkativeness"], c.UnknownTop["talkativeness"]} {
		if raw == nil {
			continue
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			if f, err := n.Float64(); err == nil {
				return f, true
			}
		}
	}
	return 0, false
}
