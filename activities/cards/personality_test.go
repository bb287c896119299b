package cards

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/store"
)

func TestToPersonality(t *testing.T) {
	c, err := Parse(readFixture(t, "v3.json"), "v3.json")
	if err != nil {
		t.Fatal(err)
	}
	p, x := ToPersonality(c)
	want := store.Personality{
		Slug: "lilith", Name: "Lilith", DisplayName: "Lili",
		CharacterInfo:          c.Description + "\n\nScenario: " + c.Scenario,
		Traits:                 "sardonic, curious, fiercely loyal",
		ConversationalExamples: c.MesExample + "\n\n<START>\n{{char}}: " + c.FirstMes,
		SystemPrompt:           c.SystemPrompt,
		IsNSFW:                 true,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("ToPersonality:\n got %+v\nwant %+v", p, want)
	}
	if x.PostHistoryInstructions != "[Keep replies under 200 words.]" || x.Scenario != c.Scenario ||
		x.FirstMessage != c.FirstMes || len(x.Assets) != 3 || x.CharacterBook == nil || x.Unknown["x_future_field"] == nil {
		t.Errorf("Extra misses card fields: %+v", x)
	}
	if err := (&p).Validate(); err != nil {
		t.Errorf("the mapped personality does not validate: %v", err)
	}
}

func TestToPersonalityAvatarURL(t *testing.T) {
	c := &Card{Name: "Ava", Assets: []Asset{
		{Type: "background", URI: "https://x/bg.png", Name: "main", Ext: "png"},
		{Type: "icon", URI: "https://x/ava.png", Name: "main", Ext: "png"},
	}}
	p, _ := ToPersonality(c)
	if p.AvatarURL != "https://x/ava.png" {
		t.Errorf("avatar = %q", p.AvatarURL)
	}
	p.AvatarURL = "https://y/new.webp"
	back := FromPersonality(p, Extra{Assets: c.Assets})
	if back.Assets[1].URI != "https://y/new.webp" || back.Assets[0].URI != "https://x/bg.png" || c.Assets[1].URI != "https://x/ava.png" {
		t.Errorf("assets = %+v (the input must not change)", back.Assets)
	}
}

// A card that goes into Tzurot and comes back out is the same card.
func TestCardPersonalityCardRoundTrip(t *testing.T) {
	for _, f := range goodFixtures {
		t.Run(f, func(t *testing.T) {
			c, err := Parse(readFixture(t, f), f)
			if err != nil {
				t.Fatal(err)
			}
			// Raw values with characters json.Marshal escapes (<, >, &, U+2028).
			c.Extensions = withRaw(c.Extensions, "x_macro", `{"text":"<START>\n{{user}} & {{char}}\u2028 > end"}`)
			p, x := ToPersonality(c)
			x = throughJSONB(t, x)
			back := FromPersonality(p, x)
			if got, want := withoutOrigin(back), withoutOrigin(c); !reflect.DeepEqual(got, want) {
				t.Errorf("card → personality → card differs:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// A personality exported from Tzurot and imported again is the same personality.
func TestPersonalityCardPersonalityRoundTrip(t *testing.T) {
	p := store.Personality{
		Slug: "cold-kerach", Name: "COLD", DisplayName: "Cold One",
		AvatarURL: "https://files.example/avatar_1.png", CharacterInfo: "A data-driven entity.",
		Traits: "efficient, terse", Tone: "clinical", Age: "ageless", Appearance: "a blue glow",
		Likes: "clean data", Dislikes: "noise", ConversationalGoals: "find the signal",
		ConversationalExamples: "{{user}}: hi\n{{char}}: Input received.",
		SystemPrompt:           "You are {{char}}.", ErrorMessage: "Signal lost.", Birthday: "01-31",
		IsNSFW: true, Aliases: []string{"cold"},
	}
	c := FromPersonality(p, Extra{})
	for _, want := range []string{"A data-driven entity.\n\nAge: ageless\n\nAppearance: a blue glow\n\nTone: clinical", "Conversational goals: find the signal"} {
		if !strings.Contains(c.Description, want) {
			t.Errorf("the description does not show %q to other tools:\n%s", want, c.Description)
		}
	}
	if c.Nickname != "Cold One" || !hasTag(c.Tags, "NSFW") || c.Extensions[tzurotKey] == nil {
		t.Errorf("card = %+v", c)
	}
	// Through a real export and Parse, as a user would.
	data, err := ExportPNG(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(data, "cold.png")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ToPersonality(parsed)
	if !reflect.DeepEqual(got, p) {
		t.Errorf("personality → card → personality differs:\n got %+v\nwant %+v", got, p)
	}
}

// Text edited in another tool wins; the folded columns are not restored on top of it.
func TestEditedElsewhere(t *testing.T) {
	p := store.Personality{Slug: "a", Name: "A", DisplayName: "A", CharacterInfo: "Base.", Likes: "cats", Tone: "dry"}
	c := FromPersonality(p, Extra{})
	c.Description = strings.Replace(c.Description, "Likes: cats", "Likes: dogs", 1)
	got, _ := ToPersonality(c)
	if got.Likes != "" || got.Tone != "" || !strings.Contains(got.CharacterInfo, "Likes: dogs") || strings.Contains(got.CharacterInfo, "cats") {
		t.Errorf("got info %q, likes %q, tone %q", got.CharacterInfo, got.Likes, got.Tone)
	}
	// A scenario edited inside the character info stays there and is not exported twice.
	c2, _ := Parse(readFixture(t, "v3.json"), "v3.json")
	p2, x2 := ToPersonality(c2)
	p2.CharacterInfo = strings.Replace(p2.CharacterInfo, "officially exist", "exist", 1)
	back := FromPersonality(p2, x2)
	if back.Scenario != "" || !strings.Contains(back.Description, "Scenario: {{user}} is looking for a book that does not exist.") {
		t.Errorf("scenario %q, description %q", back.Scenario, back.Description)
	}
}

func TestSlugify(t *testing.T) {
	tests := map[string]string{
		"Lilith": "lilith", "Captain Vex": "captain-vex", "  Dr. Who?! ": "dr-who",
		"リリス": "character", "Zoë 2": "zo-2", strings.Repeat("ab ", 40): strings.TrimRight(strings.Repeat("ab-", 22)[:64], "-"),
	}
	for in, want := range tests {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func withRaw(m map[string]json.RawMessage, k, v string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{k: compactRaw(json.RawMessage(v))} // as Parse keeps it
	for key, val := range m {
		out[key] = val
	}
	return out
}

// throughJSONB stores Extra the way PostgreSQL gives it back: re-spaced JSON.
func throughJSONB(t *testing.T, x Extra) Extra {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var spaced bytes.Buffer
	if err := json.Indent(&spaced, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	var back Extra
	if err := json.Unmarshal(spaced.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	return back
}
