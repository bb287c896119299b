package workers_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/llm/llmtest"
	"github.com/tzurot/tzurot/activities/preset"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
)

// presetWire is where each LLM field must arrive in an OpenRouter request body (a dotted
// JSON path), copied by hand from activities/preset's apply_test.go so this test checks
// the table instead of repeating it. The key paying in these tests is an OpenRouter key.
var presetWire = map[string]string{
	"model": "model", "temperature": "temperature", "top_p": "top_p", "top_k": "top_k", "min_p": "min_p",
	"top_a": "top_a", "frequency_penalty": "frequency_penalty", "presence_penalty": "presence_penalty",
	"repetition_penalty": "repetition_penalty", "seed": "seed", "max_tokens": "max_tokens", "stop": "stop",
	"reasoning_effort": "reasoning.effort",
}

// presetTestValues holds one valid, non-default value per LLM field (those of the
// package's own tests), in canonical types.
var presetTestValues = preset.Values{
	"model": "stub/preset-everything", "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
	"top_a": 0.1, "frequency_penalty": 0.3, "presence_penalty": -0.4, "repetition_penalty": 1.1,
	"seed": 42, "max_tokens": 321, "stop": []string{"\n\nUser:", "END"}, "reasoning_effort": "low",
}

func presetCmd(t *testing.T, s *system, channelID, userID string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.InteractionResponse {
	t.Helper()
	return s.command(t, channelID, userID, discordgo.ApplicationCommandInteractionData{Name: "preset", Options: opts})
}

// presetSub is /preset <name> with options; presetGroup is /preset <group> <name>.
func presetSub(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}
}

func presetGroup(group, name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: group, Type: discordgo.ApplicationCommandOptionSubCommandGroup,
		Options: []*discordgo.ApplicationCommandInteractionDataOption{presetSub(name, opts...)}}
}

// createPreset runs /preset create and submits its modal; it returns the answer.
func createPreset(t *testing.T, s *system, channelID, userID, name, model, params string) string {
	t.Helper()
	r := presetCmd(t, s, channelID, userID, presetSub("create"))
	if r.Type != discordgo.InteractionResponseModal || r.Data.CustomID != "preset-create" {
		t.Fatalf("/preset create did not open its modal: %+v", r)
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(channelID, userID, "preset-create", map[string]string{"name": name, "model": model, "parameters": params}))
	if r.Data == nil || r.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("the answer to a preset form must be ephemeral: %+v", r.Data)
	}
	return content(r)
}

// ownKey stores an OpenRouter key for the Discord user, so their turns are paid by it and
// are not guest turns: guests get the free tier's preset alone.
func ownKey(t *testing.T, s *system, discordUserID string) store.User {
	t.Helper()
	ctx := context.Background()
	u, err := s.db.Store.Users.ByDiscordID(ctx, discordUserID)
	if err != nil {
		t.Fatal(err)
	}
	if s.db.Store.APIKeys == nil {
		t.Fatal("the harness has no keyring: users cannot bring a key, so every turn is a guest turn")
	}
	if err := s.db.Store.APIKeys.Put(ctx, u.ID, "openrouter", "", testUserKey); err != nil {
		t.Fatal(err)
	}
	return u
}

// chatBody waits for the conversation of a message and returns the body of the first chat
// request it sent (the ones after the requests counted before).
func chatBody(t *testing.T, s *system, before int, messageID string) map[string]any {
	t.Helper()
	s.waitConversation(t, messageID)
	for _, r := range s.stub.Requests()[before:] {
		if r.Path != "/v1/chat/completions" {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(r.Body, &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	t.Fatalf("no chat request after message %s", messageID)
	return nil
}

// at follows a dotted path through nested JSON objects.
func at(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// asJSON is v as it reads back from JSON (numbers as float64, lists as []any).
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPresetEveryFieldReachesTheBody is the design's invariant end to end: a preset typed
// into /preset create with every LLM parameter, made the user's default, shapes the HTTP
// body of the next reply field by field.
//
// DEPENDENCY: passes only once CallLLM builds its request from the cascade
// (activities.ResolveParameters, then preset.Apply); until then the body carries the
// operator's model and max_tokens and this test fails naming each missing field.
func TestPresetEveryFieldReachesTheBody(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	u := s.sim.AddUser("knobs", "Knobs")
	var lines []string
	for _, f := range preset.Fields {
		if f.Behaviour {
			continue
		}
		if _, ok := presetWire[f.Name]; !ok {
			t.Errorf("%s has no expected place in the body: add it to presetWire", f.Name)
		}
		v, ok := presetTestValues[f.Name]
		if !ok {
			t.Fatalf("%s has no test value: add it to presetTestValues", f.Name)
		}
		if f.Name != "model" {
			lines = append(lines, f.Name+" = "+preset.Format(f.Name, v))
		}
	}
	model := presetTestValues["model"].(string)
	if got := createPreset(t, s, ch.ID, u.ID, "Everything", model, strings.Join(lines, "\n")); !strings.Contains(got, "Created preset **Everything**") {
		t.Fatalf("create: %q", got)
	}
	if got := content(presetCmd(t, s, ch.ID, u.ID, presetGroup("default", "set", str("preset", "everything")))); !strings.Contains(got, "Everything") {
		t.Fatalf("default set: %q", got)
	}
	ownKey(t, s, u.ID)

	s.stub.SetReply(func(llmtest.ChatRequest) string { return "Every knob, turned." })
	defer s.stub.SetReply(nil)
	before := len(s.stub.Requests())
	msg := s.sim.Say(ch.ID, u.ID, "@Lilith show me every knob")
	body := chatBody(t, s, before, msg.ID)
	for _, f := range preset.Fields {
		if f.Behaviour {
			if _, ok := body[f.Name]; ok {
				t.Errorf("behaviour field %s reached the body", f.Name)
			}
			continue
		}
		got, ok := at(body, presetWire[f.Name])
		if want := asJSON(t, presetTestValues[f.Name]); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: body %s = %#v, want %#v (is ResolveParameters wired into CallLLM?)", f.Name, presetWire[f.Name], got, want)
		}
	}
}

// TestPresetOverrideBeatsUserDefault: the cascade's order, end to end. DEPENDENCY: needs
// ResolveParameters wired into CallLLM, as TestPresetEveryFieldReachesTheBody.
func TestPresetOverrideBeatsUserDefault(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	u := s.sim.AddUser("layered", "Layered")
	createPreset(t, s, ch.ID, u.ID, "Everyday", "stub/preset-everyday", "temperature = 0.3")
	createPreset(t, s, ch.ID, u.ID, "For Bob", "stub/preset-bob", "temperature = 1.5\ntop_p = 0.5")
	presetCmd(t, s, ch.ID, u.ID, presetGroup("default", "set", str("preset", "Everyday")))
	r := presetCmd(t, s, ch.ID, u.ID, presetGroup("override", "set", str("character", "bob"), str("preset", "For Bob")))
	if got := content(r); !strings.Contains(got, "Bob the Builder") || !strings.Contains(got, "For Bob") {
		t.Fatalf("override set: %q", got)
	}
	ownKey(t, s, u.ID)

	ask := func(text string) map[string]any {
		before := len(s.stub.Requests())
		return chatBody(t, s, before, s.sim.Say(ch.ID, u.ID, text).ID)
	}
	if b := ask("@Lilith hello"); b["model"] != "stub/preset-everyday" || b["temperature"] != 0.3 {
		t.Errorf("Lilith (user default): model %v, temperature %v", b["model"], b["temperature"])
	}
	if b := ask("@bobby hello"); b["model"] != "stub/preset-bob" || b["temperature"] != 1.5 || b["top_p"] != 0.5 {
		t.Errorf("Bob (override): model %v, temperature %v, top_p %v", b["model"], b["temperature"], b["top_p"])
	}
	if got := content(presetCmd(t, s, ch.ID, u.ID, presetGroup("override", "clear", str("character", "bob")))); !strings.Contains(got, "Done") {
		t.Fatalf("override clear: %q", got)
	}
	if b := ask("@bobby again"); b["model"] != "stub/preset-everyday" {
		t.Errorf("Bob after the override was cleared: model %v", b["model"])
	}
}

// TestResolveParametersCascade checks the resolver the lead calls from CallLLM directly,
// against the same database (it needs no wiring).
func TestResolveParametersCascade(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	st := s.db.Store
	u, err := st.Users.Ensure(ctx, "resolve-params-user", "resolver", "Resolver")
	if err != nil {
		t.Fatal(err)
	}
	char, err := st.Personalities.Upsert(ctx, store.Personality{Slug: "preset-cascade", Name: "Cascade", IsPublic: true})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name, owner, model string, v preset.Values) store.Preset {
		p, err := st.Presets.Create(ctx, store.Preset{Name: name, OwnerID: owner, Model: model, Parameters: v})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	charDefault := mk("cascade-character", "", "stub/character", preset.Values{"temperature": 0.2, "top_k": 9, "max_images": 1})
	userDefault := mk("cascade-user", u.ID, "stub/user", preset.Values{"temperature": 0.4})
	override := mk("cascade-override", u.ID, "stub/override", preset.Values{"top_k": nil, "seed": 5})
	for _, err := range []error{st.Presets.SetCharacterDefault(ctx, char.ID, charDefault.ID),
		st.Presets.SetUserDefault(ctx, u.ID, userDefault.ID), st.Presets.SetOverride(ctx, u.ID, char.ID, override.ID)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	fallback := activities.PresetFallback(activities.Config{Model: "stub-model", MaxReplyTokens: 4096})
	got, err := activities.ResolveParameters(ctx, st, u.ID, char.ID, false, fallback)
	want := preset.Values{"model": "stub/override", "max_tokens": 4096, "temperature": 0.4, "max_images": 1, "seed": 5}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("cascade = %v, %v; want %v", got, err, want)
	}
	if _, err := preset.Apply(got, "openrouter"); err != nil {
		t.Errorf("the resolved values do not apply: %v", err)
	}
	// A guest gets the fallback and the free tier's preset (none here), nothing of theirs.
	if got, err := activities.ResolveParameters(ctx, st, u.ID, char.ID, true, fallback); err != nil || !reflect.DeepEqual(got, fallback) {
		t.Errorf("guest = %v, %v; want the fallback %v", got, err, fallback)
	}
	// No model anywhere is a turn no retry can fix.
	_, err = activities.ResolveParameters(ctx, st, "", "", true, preset.Values{})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != activities.ErrTypeBadPreset || !app.NonRetryable() || !strings.Contains(err.Error(), "model") {
		t.Errorf("no model: %v", err)
	}
	if fb := activities.PresetFallback(activities.Config{Model: "has spaces", MaxReplyTokens: -1}); len(fb) != 0 {
		t.Errorf("an invalid operator setting reached the fallback: %v", fb)
	}
}

func TestPresetInvalidValueNamesTheField(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	u := s.sim.AddUser("typo", "Typo")
	for params, want := range map[string]string{
		"temperature = 3.5":           "temperature must be between 0 and 2 (got 3.5)",
		"top_k = many":                "top_k must be a whole number between 0 and 1000000",
		"temprature = 1":              "did you mean temperature?",
		"reasoning_effort = extreme":  "reasoning_effort must be one of none, minimal, low, medium, high",
		"just some words":             "is not `name = value`",
		"top_p = 0.5\ntop_p = 0.6":    "sets top_p again",
		"stop = a, b, c, d, e":        "stop must be 1 to 4 texts",
		"max_history_messages = 1000": "max_history_messages must be between 1 and 100",
	} {
		got := createPreset(t, s, ch.ID, u.ID, "Broken", "stub/m", params)
		if !strings.Contains(got, want) || !strings.Contains(got, "Nothing saved") {
			t.Errorf("%q: answer %q, want it to say %q", params, got, want)
		}
		if !strings.Contains(got, "What you typed") {
			t.Errorf("%q: the answer does not give back what was typed: %q", params, got)
		}
	}
	if got := createPreset(t, s, ch.ID, u.ID, "Broken", "two words", ""); !strings.Contains(got, "model must be") {
		t.Errorf("bad model: %q", got)
	}
	owner, err := s.db.Store.Users.ByDiscordID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Store.Presets.ByName(ctx, owner.ID, "Broken"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an invalid preset was stored: %v", err)
	}
}

func TestPresetDeleteNeedsTypedConfirmation(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	u := s.sim.AddUser("tidy", "Tidy")
	createPreset(t, s, ch.ID, u.ID, "Old Habits", "stub/m", "")
	owner, _ := s.db.Store.Users.ByDiscordID(ctx, u.ID)
	p, err := s.db.Store.Presets.ByName(ctx, owner.ID, "Old Habits")
	if err != nil {
		t.Fatal(err)
	}
	r := presetCmd(t, s, ch.ID, u.ID, presetSub("delete", str("preset", p.ID)))
	if r.Type != discordgo.InteractionResponseModal || r.Data.CustomID != "preset-delete:"+p.ID {
		t.Fatalf("delete must ask for confirmation in a modal: %+v", r)
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, u.ID, "preset-delete:"+p.ID, map[string]string{"confirm": "yes"}))
	if !strings.Contains(content(r), "Nothing deleted") {
		t.Fatalf("wrong confirmation: %q", content(r))
	}
	if _, err := s.db.Store.Presets.Get(ctx, p.ID); err != nil {
		t.Fatalf("deleted without the name typed: %v", err)
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, u.ID, "preset-delete:"+p.ID, map[string]string{"confirm": " old habits "}))
	if !strings.Contains(content(r), "Deleted preset **Old Habits**") {
		t.Fatalf("confirmed delete: %q", content(r))
	}
	if _, err := s.db.Store.Presets.Get(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("still there after a confirmed delete: %v", err)
	}
}

func TestPresetOnlyTheOwnerEdits(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	owner := s.sim.AddUser("maker", "Maker")
	other := s.sim.AddUser("meddler", "Meddler")
	createPreset(t, s, ch.ID, owner.ID, "Mine Alone", "stub/m", "temperature = 0.5\ntop_p = 0.8")
	ou, _ := s.db.Store.Users.ByDiscordID(ctx, owner.ID)
	p, err := s.db.Store.Presets.ByName(ctx, ou.ID, "Mine Alone")
	if err != nil {
		t.Fatal(err)
	}
	global, err := s.db.Store.Presets.Create(ctx, store.Preset{Name: "Shared Global", Model: "stub/g"})
	if err != nil {
		t.Fatal(err)
	}

	for _, sub := range []string{"edit", "delete", "view"} {
		if got := content(presetCmd(t, s, ch.ID, other.ID, presetSub(sub, str("preset", p.ID)))); !strings.Contains(got, "You have no preset called") {
			t.Errorf("/preset %s of someone else's preset: %q", sub, got)
		}
	}
	r := s.awaitResponse(t, s.sim.SubmitModal(ch.ID, other.ID, "preset-edit:"+p.ID, map[string]string{"name": "Hijacked", "model": "stub/evil", "parameters": ""}))
	if !strings.Contains(content(r), "not yours") {
		t.Errorf("a forged edit form: %q", content(r))
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, other.ID, "preset-delete:"+p.ID, map[string]string{"confirm": "Mine Alone"}))
	if !strings.Contains(content(r), "not yours") {
		t.Errorf("a forged delete form: %q", content(r))
	}
	if got := content(presetCmd(t, s, ch.ID, other.ID, presetSub("edit", str("preset", global.ID)))); !strings.Contains(got, "only the bot's operators") {
		t.Errorf("a user editing a global preset: %q", got)
	}
	if got, _ := s.db.Store.Presets.Get(ctx, p.ID); got.Name != "Mine Alone" || got.Model != "stub/m" {
		t.Fatalf("someone else changed the preset: %+v", got)
	}

	// The owner edits: a line `name =` clears that field, others are replaced.
	r = presetCmd(t, s, ch.ID, owner.ID, presetSub("edit", str("preset", "mine alone")))
	if r.Type != discordgo.InteractionResponseModal || r.Data.CustomID != "preset-edit:"+p.ID {
		t.Fatalf("edit must open the form: %+v", r)
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, owner.ID, "preset-edit:"+p.ID, map[string]string{
		"name": "Mine Alone", "model": "stub/m2", "parameters": "temperature =\ntop_p = 0.6\nseed = 7"}))
	if !strings.Contains(content(r), "Saved preset") {
		t.Fatalf("owner edit: %q", content(r))
	}
	got, _ := s.db.Store.Presets.Get(ctx, p.ID)
	if want := (preset.Values{"top_p": 0.6, "seed": 7}); got.Model != "stub/m2" || !reflect.DeepEqual(got.Parameters, want) {
		t.Fatalf("after edit: %+v, want parameters %v", got, want)
	}
}

func TestPresetExportImportAndView(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	a := s.sim.AddUser("exporter", "Exporter")
	b := s.sim.AddUser("importer", "Importer")
	createPreset(t, s, ch.ID, a.ID, "Travelling", "stub/travel", "temperature = 0.7\nstop = [\"\\n\\nUser:\", \"END\"]\nmax_images = 0")
	r := presetCmd(t, s, ch.ID, a.ID, presetSub("export", str("preset", "Travelling")))
	text := content(r)
	start := strings.Index(text, "```json\n")
	end := strings.LastIndex(text, "```")
	if start < 0 || end <= start {
		t.Fatalf("export is not a JSON block: %q", text)
	}
	data := []byte(text[start+len("```json\n") : end])
	// A preset whose JSON would break a code block comes as a file instead.
	createPreset(t, s, ch.ID, a.ID, "Fenced", "stub/fenced", "stop = ```, END")
	r = presetCmd(t, s, ch.ID, a.ID, presetSub("export", str("preset", "Fenced")))
	if got := content(r); !strings.Contains(got, "Preset **Fenced**") || strings.Contains(got, "```") {
		t.Errorf("export of a fenced preset: %q", got)
	}

	host := s.sim.Say(ch.ID, b.ID, "my preset", discordtest.WithAttachmentData("travelling.json", "application/json", data))
	att := host.Attachments[0]
	i := s.sim.Interact(ch.ID, b.ID, discordgo.ApplicationCommandInteractionData{Name: "preset",
		Options: []*discordgo.ApplicationCommandInteractionDataOption{presetSub("import",
			&discordgo.ApplicationCommandInteractionDataOption{Name: "file", Type: discordgo.ApplicationCommandOptionAttachment, Value: att.ID})},
		Resolved: &discordgo.ApplicationCommandInteractionDataResolved{Attachments: map[string]*discordgo.MessageAttachment{att.ID: att}}})
	s.awaitResponse(t, i)
	if got := interactionText(t, s, i.ID); !strings.Contains(got, "Imported preset **Travelling**") {
		t.Fatalf("import: %q", got)
	}
	au, _ := s.db.Store.Users.ByDiscordID(ctx, a.ID)
	bu, _ := s.db.Store.Users.ByDiscordID(ctx, b.ID)
	orig, err1 := s.db.Store.Presets.ByName(ctx, au.ID, "Travelling")
	copied, err2 := s.db.Store.Presets.ByName(ctx, bu.ID, "Travelling")
	if err1 != nil || err2 != nil || copied.ID == orig.ID || copied.Model != orig.Model || !reflect.DeepEqual(copied.Parameters, orig.Parameters) {
		t.Fatalf("import copied %+v from %+v (%v, %v)", copied, orig, err1, err2)
	}

	view := content(presetCmd(t, s, ch.ID, b.ID, presetSub("view", str("preset", copied.ID))))
	for _, want := range []string{"`temperature` = **0.7**", "`max_images` = **0**", "`max_history_messages` = 50 *(default)*", "`top_p` — *provider default*", `"END"`} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	browse := content(presetCmd(t, s, ch.ID, b.ID, presetSub("browse")))
	if !strings.Contains(browse, "**Travelling**") || !strings.Contains(browse, "stub/travel") {
		t.Errorf("browse: %q", browse)
	}
	// A broken file gets an answer and stores nothing.
	host = s.sim.Say(ch.ID, b.ID, "broken", discordtest.WithAttachmentData("bad.json", "application/json", []byte(`{"name":"Bad","parameters":{"temperature":7}}`)))
	att = host.Attachments[0]
	i = s.sim.Interact(ch.ID, b.ID, discordgo.ApplicationCommandInteractionData{Name: "preset",
		Options: []*discordgo.ApplicationCommandInteractionDataOption{presetSub("import",
			&discordgo.ApplicationCommandInteractionDataOption{Name: "file", Type: discordgo.ApplicationCommandOptionAttachment, Value: att.ID})},
		Resolved: &discordgo.ApplicationCommandInteractionDataResolved{Attachments: map[string]*discordgo.MessageAttachment{att.ID: att}}})
	s.awaitResponse(t, i)
	if got := interactionText(t, s, i.ID); !strings.Contains(got, "temperature must be") {
		t.Errorf("invalid import: %q", got)
	}
}

func TestPresetAutocomplete(t *testing.T) {
	s := requireSystem(t)
	ch := s.channel(t)
	u := s.sim.AddUser("picker", "Picker")
	createPreset(t, s, ch.ID, u.ID, "Autumn Leaves", "stub/autumn", "")
	i := s.sim.Autocomplete(ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "preset", Options: []*discordgo.ApplicationCommandInteractionDataOption{
		presetSub("view", &discordgo.ApplicationCommandInteractionDataOption{Name: "preset", Type: discordgo.ApplicationCommandOptionString, Value: "autu", Focused: true})}})
	r := s.awaitResponse(t, i)
	if len(r.Data.Choices) != 1 || !strings.HasPrefix(r.Data.Choices[0].Name, "Autumn Leaves") {
		t.Fatalf("preset autocomplete: %+v", r.Data.Choices)
	}
	i = s.sim.Autocomplete(ch.ID, u.ID, discordgo.ApplicationCommandInteractionData{Name: "preset", Options: []*discordgo.ApplicationCommandInteractionDataOption{
		presetGroup("override", "set", &discordgo.ApplicationCommandInteractionDataOption{Name: "character", Type: discordgo.ApplicationCommandOptionString, Value: "lil", Focused: true})}})
	if r := s.awaitResponse(t, i); len(r.Data.Choices) == 0 || r.Data.Choices[0].Value != "lilith" {
		t.Fatalf("character autocomplete: %+v", r.Data.Choices)
	}
}

// interactionText waits for a deferred answer to be filled in.
func interactionText(t *testing.T, s *system, interactionID string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if msgs := s.sim.InteractionMessages(interactionID); len(msgs) > 0 && msgs[0].Content != "" {
			return msgs[0].Content
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no answer to interaction %s", interactionID)
	return ""
}
