package workers_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities/cards"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
)

// /character end to end: commands, modals and buttons through the simulator, the bot's
// answers read back as a user would see them, the database checked behind them.

type option = discordgo.ApplicationCommandInteractionDataOption

func charSub(name string, opts ...*option) *option {
	return &option{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}
}

func charGroup(group, name string, opts ...*option) *option {
	return &option{Name: group, Type: discordgo.ApplicationCommandOptionSubCommandGroup, Options: []*option{charSub(name, opts...)}}
}

func charBool(name string, v bool) *option {
	return &option{Name: name, Type: discordgo.ApplicationCommandOptionBoolean, Value: v}
}

// charRun runs /character with one subcommand (and the files it refers to) and returns
// the interaction.
func charRun(s *system, channelID, userID string, sub *option, files ...*discordgo.MessageAttachment) *discordgo.Interaction {
	data := discordgo.ApplicationCommandInteractionData{Name: "character", Options: []*option{sub}}
	if len(files) > 0 {
		data.Resolved = &discordgo.ApplicationCommandInteractionDataResolved{Attachments: map[string]*discordgo.MessageAttachment{}}
		for _, f := range files {
			data.Resolved.Attachments[f.ID] = f
		}
	}
	return s.sim.Interact(channelID, userID, data)
}

// hostFile uploads a file the way a user attaches one to a command: it lands on the CDN
// and the command names it.
func hostFile(s *system, channelID, userID, name, contentType string, data []byte) (*discordgo.MessageAttachment, *option) {
	m := s.sim.Say(channelID, userID, "", discordtest.WithAttachmentData(name, contentType, data))
	att := m.Attachments[0]
	return att, &option{Name: "file", Type: discordgo.ApplicationCommandOptionAttachment, Value: att.ID}
}

// answer waits for the bot's last non-empty message for an interaction (a deferred answer
// is filled in or followed up) and returns it.
func answer(t *testing.T, s *system, i *discordgo.Interaction) *discordgo.Message {
	t.Helper()
	s.awaitResponse(t, i)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		msgs := s.sim.InteractionMessages(i.ID)
		for j := len(msgs) - 1; j >= 0; j-- {
			if m := msgs[j]; m.Content != "" || len(m.Embeds) > 0 || len(m.Attachments) > 0 {
				if j == len(msgs)-1 && m.Flags&discordgo.MessageFlagsLoading == 0 {
					return m
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no answer to interaction %s", i.ID)
	return nil
}

func text(m *discordgo.Message) string {
	out := m.Content
	for _, e := range m.Embeds {
		out += " " + e.Title + " " + e.Description
		for _, f := range e.Fields {
			out += " " + f.Name + " " + f.Value
		}
	}
	return out
}

func fetch(t *testing.T, s *system, url string) []byte {
	t.Helper()
	resp, err := s.sim.HTTPClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return data
}

// buttons lists the custom ids of a message's or response's buttons and menus.
func buttons(comps []discordgo.MessageComponent) []string {
	var out []string
	for _, row := range comps {
		r, ok := row.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, c := range r.Components {
			switch b := c.(type) {
			case *discordgo.Button:
				out = append(out, b.CustomID)
			case *discordgo.SelectMenu:
				out = append(out, b.CustomID)
			}
		}
	}
	return out
}

// withComponents waits for the bot's first answer and returns it with its components
// (buttons, menus, a modal's inputs).
func withComponents(t *testing.T, s *system, i *discordgo.Interaction) (*discordgo.InteractionResponse, []discordgo.MessageComponent) {
	t.Helper()
	r := s.awaitResponse(t, i)
	return r, s.sim.InteractionComponents(i.ID)
}

// inputs maps a modal's text inputs to their prefilled values.
func inputs(comps []discordgo.MessageComponent) map[string]string {
	out := map[string]string{}
	for _, row := range comps {
		if ar, ok := row.(*discordgo.ActionsRow); ok {
			for _, c := range ar.Components {
				if ti, ok := c.(*discordgo.TextInput); ok {
					out[ti.CustomID] = ti.Value
				}
			}
		}
	}
	return out
}

func storeUser(t *testing.T, s *system, discordID string) store.User {
	t.Helper()
	u, err := s.db.Store.Users.Ensure(context.Background(), discordID, "u", "U")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// createCharacter runs /character create and submits its form.
func createCharacter(t *testing.T, s *system, channelID, userID, name string) store.Personality {
	t.Helper()
	r := s.awaitResponse(t, charRun(s, channelID, userID, charSub("create")))
	if r.Type != discordgo.InteractionResponseModal || r.Data.CustomID != "char-create" {
		t.Fatalf("create opened no form: %+v", r)
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(channelID, userID, "char-create", map[string]string{
		"name": name, "character_info": "Keeps the lighthouse.", "personality_traits": "patient", "conversational_examples": "", "system_prompt": "Stay in character."}))
	if got := content(r); !strings.Contains(got, "Created **"+name+"**") || r.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("create answered %q", got)
	}
	p, err := s.db.Store.Personalities.BySlug(context.Background(), cards.Slugify(name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCharacterCreateEditViewLongFields(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	owner, other := s.sim.AddUser("keeper", "Keeper"), s.sim.AddUser("visitor", "Visitor")
	p := createCharacter(t, s, ch.ID, owner.ID, "Wick Keeper")
	u := storeUser(t, s, owner.ID)
	if p.OwnerID != u.ID || p.IsPublic || p.CharacterInfo != "Keeps the lighthouse." {
		t.Fatalf("created %+v", p)
	}

	// Identity through its section form.
	r, comps := withComponents(t, s, charRun(s, ch.ID, owner.ID, charSub("edit", str("character", "wick-keeper"), str("section", "identity"))))
	if r.Type != discordgo.InteractionResponseModal || r.Data.CustomID != "char-edit:"+p.ID+":identity" || inputs(comps)["name"] != "Wick Keeper" {
		t.Fatalf("edit identity: %+v", r.Data)
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, owner.ID, r.Data.CustomID, map[string]string{"name": "Wick Keeper", "display_name": "Wick",
		"character_info": "Keeps the lighthouse on the cliff.", "personality_age": "60", "birthday": "3-7"}))
	if !strings.Contains(content(r), "Nothing saved") || !strings.Contains(content(r), "birthday") {
		t.Fatalf("a bad birthday: %q", content(r))
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, owner.ID, "char-edit:"+p.ID+":identity", map[string]string{"name": "Wick Keeper", "display_name": "Wick",
		"character_info": "Keeps the lighthouse on the cliff.", "personality_age": "60", "birthday": "03-07"}))
	if !strings.Contains(content(r), "Saved the identity of **Wick**") {
		t.Fatalf("edit saved: %q", content(r))
	}

	// A system prompt longer than one box goes through the field form, in parts.
	long := strings.Repeat("The lamp must never go out. ", 180)[:5000]
	r, comps = withComponents(t, s, s.sim.Click(ch.ID, owner.ID, "char-field:"+p.ID+":system_prompt"))
	if r.Type != discordgo.InteractionResponseModal || len(inputs(comps)) != 2 {
		t.Fatalf("field form: %+v", r.Data)
	}
	s.awaitResponse(t, s.sim.SubmitModal(ch.ID, owner.ID, "char-editf:"+p.ID+":system_prompt", map[string]string{"part1": long[:4000], "part2": long[4000:]}))
	got, _ := s.db.Store.Personalities.ByID(ctx, p.ID)
	if got.SystemPrompt != long || got.DisplayName != "Wick" || got.Birthday != "03-07" {
		t.Fatalf("after edits: prompt %d chars, %+v", len(got.SystemPrompt), got.DisplayName)
	}
	// Now the section no longer fits a form: the answer offers its fields one by one.
	r, comps = withComponents(t, s, charRun(s, ch.ID, owner.ID, charSub("edit", str("character", "wick-keeper"), str("section", "prompt"))))
	if ids := buttons(comps); len(ids) != 1 || ids[0] != "char-field:"+p.ID+":system_prompt" {
		t.Fatalf("long section: %q %v", content(r), ids)
	}
	_, comps = withComponents(t, s, s.sim.Click(ch.ID, owner.ID, "char-field:"+p.ID+":system_prompt"))
	if in := inputs(comps); len(in) != 3 || in["part1"]+in["part2"]+in["part3"] != long {
		t.Fatalf("the long field's form does not hold it whole: %d boxes", len(in))
	}

	// The view cuts the 5,000 characters to fit and offers the whole card as a file.
	r, comps = withComponents(t, s, charRun(s, ch.ID, owner.ID, charSub("view", str("character", "wick-keeper"))))
	e := r.Data.Embeds[0]
	var prompt *discordgo.MessageEmbedField
	total := len([]rune(e.Title + e.Description + e.Footer.Text))
	for _, f := range e.Fields {
		total += len([]rune(f.Name + f.Value))
		if f.Name == "System prompt" {
			prompt = f
		}
	}
	if prompt == nil || len([]rune(prompt.Value)) > 1024 || !strings.HasSuffix(prompt.Value, "…") || total > 6000 {
		t.Fatalf("view: prompt field %v, %d characters in all", prompt, total)
	}
	ids := buttons(comps)
	if len(ids) != 1 || ids[0] != "char-full:"+p.ID {
		t.Fatalf("view offers %v", ids)
	}
	m := answer(t, s, s.sim.Click(ch.ID, owner.ID, ids[0]))
	if len(m.Attachments) != 1 || !strings.Contains(string(fetch(t, s, m.Attachments[0].URL)), long) {
		t.Fatalf("the whole card file: %+v", m)
	}

	// Someone else: the private character does not exist for them; once public, they see
	// it without the system prompt, and still cannot change it.
	if got := content(s.awaitResponse(t, charRun(s, ch.ID, other.ID, charSub("view", str("character", "wick-keeper"))))); !strings.Contains(got, "I know no character") {
		t.Fatalf("private view by another: %q", got)
	}
	s.awaitResponse(t, charRun(s, ch.ID, owner.ID, charGroup("visibility", "public", str("character", "wick-keeper"))))
	r = s.awaitResponse(t, charRun(s, ch.ID, other.ID, charSub("view", str("character", "wick-keeper"))))
	if got := content(r); !strings.Contains(got, "Keeps the lighthouse") || strings.Contains(got, "lamp must never") {
		t.Fatalf("public view by another: %q", got)
	}
	if got := content(s.awaitResponse(t, charRun(s, ch.ID, other.ID, charSub("edit", str("character", "wick-keeper"), str("section", "prompt"))))); !strings.Contains(got, "is not yours") {
		t.Fatalf("edit by another: %q", got)
	}
	if got := content(s.awaitResponse(t, s.sim.SubmitModal(ch.ID, other.ID, "char-edit:"+p.ID+":identity", map[string]string{"name": "Stolen"}))); !strings.Contains(got, "not yours") {
		t.Fatalf("a forged form by another: %q", got)
	}

	// Autocomplete: the owner's own for edit; everything visible for view.
	i := s.sim.Autocomplete(ch.ID, other.ID, discordgo.ApplicationCommandInteractionData{Name: "character", Options: []*option{
		charSub("edit", &option{Name: "character", Type: discordgo.ApplicationCommandOptionString, Value: "wick", Focused: true})}})
	if r := s.awaitResponse(t, i); len(r.Data.Choices) != 0 {
		t.Fatalf("edit autocomplete offered someone else's character: %+v", r.Data.Choices)
	}
	i = s.sim.Autocomplete(ch.ID, other.ID, discordgo.ApplicationCommandInteractionData{Name: "character", Options: []*option{
		charSub("view", &option{Name: "character", Type: discordgo.ApplicationCommandOptionString, Value: "wick", Focused: true})}})
	if r := s.awaitResponse(t, i); len(r.Data.Choices) != 1 || r.Data.Choices[0].Value != "wick-keeper" {
		t.Fatalf("view autocomplete: %+v", r.Data.Choices)
	}
}

func TestCharacterBrowsePagesWithButtons(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	owner, viewer := s.sim.AddUser("prolific", "Prolific"), s.sim.AddUser("reader", "Reader")
	u := storeUser(t, s, owner.ID)
	for i := range 12 {
		if _, err := s.db.Store.Characters.Create(ctx, store.NewCharacter{Personality: store.Personality{
			Slug: fmt.Sprintf("shelf-%02d", i), Name: fmt.Sprintf("Shelf %02d", i), OwnerID: u.ID, IsPublic: i != 11},
			Extensions: []byte(`{"tags":["Shelfware"]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	r, comps := withComponents(t, s, charRun(s, ch.ID, viewer.ID, charSub("browse", str("tag", "shelfware"))))
	e := r.Data.Embeds[0]
	if n := strings.Count(e.Description, "\n") + 1; n != 10 || !strings.Contains(e.Footer.Text, "Page 1 of 2 · 11 characters") {
		t.Fatalf("page 1: %d lines, %q", n, e.Footer.Text)
	}
	ids := buttons(comps)
	if len(ids) != 1 || !strings.HasPrefix(ids[0], "char-browse:1:") {
		t.Fatalf("page 1 buttons: %v", ids)
	}
	r, comps = withComponents(t, s, s.sim.Click(ch.ID, viewer.ID, ids[0]))
	e = r.Data.Embeds[0]
	if !strings.Contains(e.Description, "Shelf 10") || strings.Contains(e.Description, "Shelf 11") || !strings.Contains(e.Footer.Text, "Page 2 of 2") {
		t.Fatalf("page 2: %q", e.Description)
	}
	if ids := buttons(comps); len(ids) != 1 || !strings.HasPrefix(ids[0], "char-browse:0:") {
		t.Fatalf("page 2 buttons: %v", ids)
	}
	// The owner filter, as the owner: the private one too.
	r = s.awaitResponse(t, charRun(s, ch.ID, owner.ID, charSub("browse", &option{Name: "owner", Type: discordgo.ApplicationCommandOptionUser, Value: owner.ID})))
	if got := r.Data.Embeds[0].Footer.Text; !strings.Contains(got, "12 characters") {
		t.Fatalf("owner filter: %q", got)
	}
	r = s.awaitResponse(t, charRun(s, ch.ID, viewer.ID, charSub("browse", charBool("mine", true))))
	if !strings.Contains(content(r), "No character matches") {
		t.Fatalf("mine, with none: %q", content(r))
	}
}

func TestCharacterDeleteNeedsItsSlugAndTakesMemoriesAndHistory(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	owner := s.sim.AddUser("deleter", "Deleter")
	p := createCharacter(t, s, ch.ID, owner.ID, "Ephemeral One")
	u := storeUser(t, s, owner.ID)
	if err := s.db.Store.History.Append(ctx,
		store.Turn{ChannelID: ch.ID, PersonalityID: p.ID, UserID: u.ID, Role: "user", Content: "hello", DiscordMessageID: "del-1"},
		store.Turn{ChannelID: ch.ID, PersonalityID: p.ID, UserID: u.ID, Role: "assistant", Content: "hi", DiscordMessageID: "del-2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Store.Memories.InsertWithoutEmbedding(ctx, store.Memory{PersonaID: u.DefaultPersonaID, PersonalityID: p.ID, Content: "they said hello"}); err != nil {
		t.Fatal(err)
	}
	r := s.awaitResponse(t, charRun(s, ch.ID, owner.ID, charSub("delete", str("character", "ephemeral-one"))))
	if r.Type != discordgo.InteractionResponseModal || r.Data.CustomID != "char-delete:"+p.ID {
		t.Fatalf("delete opened no confirmation: %+v", r)
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, owner.ID, "char-delete:"+p.ID, map[string]string{"confirm": "yes"}))
	if !strings.Contains(content(r), "Nothing deleted") {
		t.Fatalf("wrong confirmation: %q", content(r))
	}
	if _, err := s.db.Store.Personalities.ByID(ctx, p.ID); err != nil {
		t.Fatalf("deleted on a wrong confirmation: %v", err)
	}
	r = s.awaitResponse(t, s.sim.SubmitModal(ch.ID, owner.ID, "char-delete:"+p.ID, map[string]string{"confirm": " Ephemeral-One "}))
	if got := content(r); !strings.Contains(got, "Deleted **Ephemeral One**, with 1 memories and 2 lines") {
		t.Fatalf("right confirmation: %q", got)
	}
	var left int
	if err := s.db.Store.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM memories WHERE personality_id = $1) + (SELECT count(*) FROM conversation_history WHERE personality_id = $1)`, p.ID).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d memories and history lines outlived the character (%v)", left, err)
	}
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(i)
	}
	m.Set(0, 0, color.NRGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCharacterAvatarSetValidatesAndHosts(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	owner := s.sim.AddUser("painter", "Painter")
	p := createCharacter(t, s, ch.ID, owner.ID, "Portrait Sitter")
	setAvatar := func(name, ctype string, data []byte) string {
		att, opt := hostFile(s, ch.ID, owner.ID, name, ctype, data)
		opt.Name = "image"
		return text(answer(t, s, charRun(s, ch.ID, owner.ID, charGroup("avatar", "set", str("character", "portrait-sitter"), opt), att)))
	}
	if got := setAvatar("huge.png", "image/png", make([]byte, 30<<20)); !strings.Contains(got, "at most 8.0 MB") {
		t.Fatalf("30 MB: %q", got)
	}
	if got := setAvatar("notes.txt", "text/plain", []byte("just words")); !strings.Contains(got, "is not a picture") {
		t.Fatalf("text file: %q", got)
	}
	if got := setAvatar("liar.png", "image/png", []byte("not really a png at all")); !strings.Contains(got, "not a picture") {
		t.Fatalf("a text file named .png: %q", got)
	}
	if got, _ := s.db.Store.Personalities.ByID(ctx, p.ID); got.AvatarURL != "" {
		t.Fatalf("a refused file became the avatar: %q", got.AvatarURL)
	}
	pic := testPNG(t, 64, 64)
	if got := setAvatar("face.png", "image/png", pic); !strings.Contains(got, "now speaks with this picture") {
		t.Fatalf("a real picture: %q", got)
	}
	got, _ := s.db.Store.Personalities.ByID(ctx, p.ID)
	dm := s.sim.Messages(s.sim.AddDM(owner.ID).ID)
	last := dm[len(dm)-1]
	if len(last.Attachments) != 1 || got.AvatarURL != last.Attachments[0].URL || !bytes.Equal(fetch(t, s, got.AvatarURL), pic) {
		t.Fatalf("avatar %q, DM %+v", got.AvatarURL, last.Attachments)
	}
	if a, err := s.db.Store.Characters.Avatar(ctx, p.ID); err != nil || !bytes.Equal(a.Data, pic) {
		t.Fatalf("the picture was not kept: %v", err)
	}
	if got := content(s.awaitResponse(t, charRun(s, ch.ID, owner.ID, charGroup("avatar", "clear", str("character", "portrait-sitter"))))); !strings.Contains(got, "without a picture") {
		t.Fatalf("clear: %q", got)
	}
	if got, _ := s.db.Store.Personalities.ByID(ctx, p.ID); got.AvatarURL != "" {
		t.Fatalf("cleared avatar still %q", got.AvatarURL)
	}
}

func TestCharacterAliasesPersonalAndGlobal(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	owner, fan := s.sim.AddUser("aliasowner", "Alias Owner"), s.sim.AddUser("aliasfan", "Alias Fan")
	p := createCharacter(t, s, ch.ID, owner.ID, "Marguerite Alias")
	s.awaitResponse(t, charRun(s, ch.ID, owner.ID, charGroup("visibility", "public", str("character", "marguerite-alias"))))
	alias := func(user, sub, name string, global bool) string {
		return content(s.awaitResponse(t, charRun(s, ch.ID, user, charGroup("alias", sub, str("character", "marguerite-alias"), str("alias", name), charBool("global", global)))))
	}
	if got := alias(owner.ID, "add", "Daisy", true); !strings.Contains(got, "a global alias") {
		t.Fatalf("owner's global alias: %q", got)
	}
	if got := alias(fan.ID, "add", "Maggie", true); !strings.Contains(got, "Only the owner") {
		t.Fatalf("a fan's global alias: %q", got)
	}
	if got := alias(fan.ID, "add", "Maggie", false); !strings.Contains(got, "a personal alias") {
		t.Fatalf("a fan's personal alias: %q", got)
	}
	if got := alias(fan.ID, "add", "Bobby", false); !strings.Contains(got, "already calls **Bob the Builder**") {
		t.Fatalf("an alias of another character: %q", got)
	}
	fu := storeUser(t, s, fan.ID)
	if found, err := s.db.Store.Characters.Find(ctx, "maggie", fu.ID, false); err != nil || found.ID != p.ID {
		t.Fatalf("the fan's alias does not find it: %v", err)
	}
	if _, err := s.db.Store.Characters.Find(ctx, "maggie", storeUser(t, s, owner.ID).ID, false); err == nil {
		t.Fatal("the fan's personal alias works for the owner")
	}
	names, err := s.db.Store.Personalities.Names(ctx, fan.ID)
	if err != nil || !hasName(names, "Maggie", fan.ID) || !hasName(names, "Daisy", "") {
		t.Fatalf("mentions would not find the aliases: %v", err)
	}
	if got := content(s.awaitResponse(t, charRun(s, ch.ID, fan.ID, charGroup("alias", "browse", str("character", "marguerite-alias"))))); !strings.Contains(got, "Daisy") || !strings.Contains(got, "Maggie") {
		t.Fatalf("browse: %q", got)
	}
	if got := alias(fan.ID, "remove", "Daisy", false); !strings.Contains(got, "no such alias") {
		t.Fatalf("a fan removing the global alias as personal: %q", got)
	}
	if got := alias(fan.ID, "remove", "Daisy", true); !strings.Contains(got, "Only the owner") {
		t.Fatalf("a fan removing the global alias: %q", got)
	}
	if got := alias(fan.ID, "remove", "maggie", false); !strings.Contains(got, "Removed") {
		t.Fatalf("a fan removing their alias: %q", got)
	}
	if got := alias(owner.ID, "remove", "daisy", true); !strings.Contains(got, "Removed") {
		t.Fatalf("the owner removing the global alias: %q", got)
	}
}

func hasName(names []store.NameEntry, name, userID string) bool {
	for _, n := range names {
		if n.Name == name && n.UserID == userID {
			return true
		}
	}
	return false
}

func TestCharacterVisibilityAndNSFW(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	owner, other := s.sim.AddUser("flagger", "Flagger"), s.sim.AddUser("onlooker", "Onlooker")
	p := createCharacter(t, s, ch.ID, owner.ID, "Flag Bearer")
	run := func(user string, sub *option) string {
		return content(s.awaitResponse(t, charRun(s, ch.ID, user, sub)))
	}
	if got := run(owner.ID, charGroup("visibility", "public", str("character", "flag-bearer"))); !strings.Contains(got, "is public") {
		t.Fatalf("public: %q", got)
	}
	if got := run(other.ID, charGroup("nsfw", "on", str("character", "flag-bearer"))); !strings.Contains(got, "not yours") {
		t.Fatalf("nsfw by another: %q", got)
	}
	if got := run(owner.ID, charGroup("nsfw", "on", str("character", "flag-bearer"))); !strings.Contains(got, "NSFW") {
		t.Fatalf("nsfw on: %q", got)
	}
	got, _ := s.db.Store.Personalities.ByID(ctx, p.ID)
	if !got.IsPublic || !got.IsNSFW {
		t.Fatalf("flags: %+v", got)
	}
	run(owner.ID, charGroup("nsfw", "off", str("character", "flag-bearer")))
	run(owner.ID, charGroup("visibility", "private", str("character", "flag-bearer")))
	if got, _ := s.db.Store.Personalities.ByID(ctx, p.ID); got.IsPublic || got.IsNSFW {
		t.Fatalf("flags back: %+v", got)
	}
	if got := run(other.ID, charSub("view", str("character", "flag-bearer"))); !strings.Contains(got, "I know no character") {
		t.Fatalf("a private character seen by another: %q", got)
	}
}

// importFile runs /character import with a file and returns the answer.
func importFile(t *testing.T, s *system, channelID, userID, name string, data []byte) (*discordgo.Message, time.Duration) {
	t.Helper()
	att, opt := hostFile(s, channelID, userID, name, "application/octet-stream", data)
	started := time.Now()
	m := answer(t, s, charRun(s, channelID, userID, charSub("import", opt), att))
	return m, time.Since(started)
}

func cardFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "activities", "cards", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCharacterImportCardsAndRefuseBrokenOnes(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	u := s.sim.AddUser("importer2", "Importer")
	for _, c := range []struct{ file, source string }{
		{"chara_only.png", "a V2 PNG card"}, {"v3.json", "a V3 JSON card"}, {"card.charx", "a V3 CHARX card"},
	} {
		m, took := importFile(t, s, ch.ID, u.ID, c.file, cardFixture(t, c.file))
		if got := m.Content; !strings.Contains(got, "Imported **") || !strings.Contains(got, c.source) || !strings.Contains(got, "private") {
			t.Fatalf("%s: %q", c.file, got)
		}
		t.Logf("imported %s in %v", c.file, took)
	}
	owner := storeUser(t, s, u.ID)
	ids, err := s.db.Store.Accounts.OwnedCharacters(ctx, owner.ID)
	if err != nil || len(ids) != 3 {
		t.Fatalf("%d characters imported (%v)", len(ids), err)
	}
	avatars := 0
	for _, id := range ids {
		p, ext, err := s.db.Store.Characters.Card(ctx, id)
		if err != nil || p.IsPublic || p.OwnerID != owner.ID || len(ext) < 10 {
			t.Fatalf("imported %+v %s %v", p, ext, err)
		}
		if p.AvatarURL != "" {
			avatars++
		}
	}
	if avatars != 2 { // the PNG's and the CHARX's pictures became avatars, hosted in a DM
		t.Fatalf("%d of the PNG and CHARX cards got their picture as avatar", avatars)
	}
	var before int
	s.db.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM personalities`).Scan(&before)
	for file, want := range map[string]string{"truncated.png": "the PNG is truncated", "bad_json.png": "Nothing imported: the card's", "plain.png": "no character card in it"} {
		m, _ := importFile(t, s, ch.ID, u.ID, file, cardFixture(t, file))
		if !strings.Contains(m.Content, want) || !strings.HasPrefix(m.Content, "Nothing imported") {
			t.Errorf("%s: %q, want %q", file, m.Content, want)
		}
	}
	var after int
	s.db.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM personalities`).Scan(&after)
	if after != before {
		t.Fatalf("broken files created %d characters", after-before)
	}
}

// TestCharacterExportThenImportIsIdentical: the largest card fixture goes in, comes out as
// a V3 PNG, the original is deleted, and the PNG goes in again: every column, alias and
// extension is the same.
func TestCharacterExportThenImportIsIdentical(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	u := s.sim.AddUser("roundtrip", "Roundtrip")
	large := cardFixture(t, "large.png")
	m, took := importFile(t, s, ch.ID, u.ID, "large.png", large)
	if !strings.Contains(m.Content, "Imported **") {
		t.Fatalf("import: %q", m.Content)
	}
	t.Logf("imported large.png (%d bytes) in %v", len(large), took)
	owner := storeUser(t, s, u.ID)
	ids, _ := s.db.Store.Accounts.OwnedCharacters(ctx, owner.ID)
	if len(ids) != 1 {
		t.Fatalf("%d characters", len(ids))
	}
	orig, origExt, err := s.db.Store.Characters.Card(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	// Give it what only Tzurot has: columns no card field holds, and a global alias.
	orig.Tone, orig.ErrorMessage, orig.Birthday = "wry", "*the ink runs dry*", "12-24"
	if orig, err = s.db.Store.Characters.Update(ctx, orig); err != nil {
		t.Fatal(err)
	}
	s.awaitResponse(t, charRun(s, ch.ID, u.ID, charGroup("alias", "add", str("character", orig.Slug), str("alias", "Roundtripper"), charBool("global", true))))
	orig, origExt, _ = s.db.Store.Characters.Card(ctx, orig.ID)

	started := time.Now()
	m = answer(t, s, charRun(s, ch.ID, u.ID, charSub("export", str("character", orig.Slug))))
	t.Logf("exported %s as PNG in %v", orig.Slug, time.Since(started))
	if len(m.Attachments) != 1 || m.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("export: %+v", m)
	}
	exported := fetch(t, s, m.Attachments[0].URL)
	if card, err := cards.Parse(exported, "x.png"); err != nil || card.Origin.Chunk != "ccv3" {
		t.Fatalf("the export is no V3 PNG card: %v", err)
	}
	jm := answer(t, s, charRun(s, ch.ID, u.ID, charSub("export", str("character", orig.Slug), str("format", "json"))))
	if len(jm.Attachments) != 1 || !strings.HasSuffix(jm.Attachments[0].Filename, ".json") || !json.Valid(fetch(t, s, jm.Attachments[0].URL)) {
		t.Fatalf("JSON export: %+v", jm.Attachments)
	}

	if _, err := s.db.Store.Characters.Delete(ctx, orig.ID); err != nil {
		t.Fatal(err)
	}
	m, took = importFile(t, s, ch.ID, u.ID, m.Attachments[0].Filename, exported)
	if !strings.Contains(m.Content, "Imported **") {
		t.Fatalf("re-import: %q", m.Content)
	}
	t.Logf("re-imported the exported PNG (%d bytes) in %v", len(exported), took)
	ids, _ = s.db.Store.Accounts.OwnedCharacters(ctx, owner.ID)
	again, againExt, err := s.db.Store.Characters.Card(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	again.ID = orig.ID
	if !reflect.DeepEqual(orig, again) {
		t.Fatalf("the character changed on the round trip:\n%+v\n%+v", orig, again)
	}
	var x1, x2 cards.Extra
	if json.Unmarshal(origExt, &x1) != nil || json.Unmarshal(againExt, &x2) != nil || !reflect.DeepEqual(x1, x2) {
		t.Fatalf("the extensions changed:\n%.500s\n%.500s", origExt, againExt)
	}
}

// zipDir zips a folder with its own name at the root, as users zip a backup folder.
func zipDir(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	root := filepath.Dir(dir)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil || zw.Close() != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCharacterImportShapesBackupWithMemories(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	ch := s.channel(t)
	u := s.sim.AddUser("shapeshifter", "Shapeshifter")
	data := zipDir(t, filepath.Join("..", "activities", "shapes", "testdata", "folder", "lilith-tzel-shani"))
	m, took := importFile(t, s, ch.ID, u.ID, "lilith-backup.zip", data)
	t.Logf("imported a shapes.inc zip (%d bytes) in %v", len(data), took)
	got := m.Content
	for _, want := range []string{"Imported **Lilith** (`lilith-tzel-shani`) from a shapes.inc backup", "memories came with it", "**not** made aliases", "librarian"} {
		if !strings.Contains(got, want) {
			t.Errorf("answer lacks %q: %q", want, got)
		}
	}
	owner := storeUser(t, s, u.ID)
	p, ext, err := s.db.Store.Characters.Card(ctx, mustFind(t, s, "lilith-tzel-shani", owner.ID).ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Birthday != "03-07" || !strings.Contains(p.ErrorMessage, "lamps went out") || len(p.Aliases) != 0 || p.IsPublic {
		t.Fatalf("shape: %+v", p)
	}
	if !strings.Contains(string(ext), "eleven_multilingual_v2") {
		t.Fatalf("voice settings not kept: %.300s", ext)
	}
	var memories int
	if err := s.db.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM memories WHERE personality_id = $1 AND persona_id = $2 AND embedding IS NULL`,
		p.ID, owner.DefaultPersonaID).Scan(&memories); err != nil || memories == 0 || !strings.Contains(got, fmt.Sprintf("%d memories", memories)) {
		t.Fatalf("%d memories stored (%v); answer %q", memories, err, got)
	}
	// A single-file export (the envelope) also works; a memories-only export is refused.
	dir := filepath.Join("..", "activities", "shapes", "testdata")
	envelope, err := os.ReadFile(filepath.Join(dir, "envelope", "cold-kerach-batuach-export.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := importFile(t, s, ch.ID, u.ID, "cold-kerach-batuach-export.json", envelope); !strings.Contains(m.Content, "Imported **COLD**") {
		t.Fatalf("envelope: %q", m.Content)
	}
	only, err := os.ReadFile(filepath.Join(dir, "memories", "MyBot_20260215_110000.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := importFile(t, s, ch.ID, u.ID, "MyBot_20260215_110000.json", only); !strings.Contains(m.Content, "Nothing imported: this export holds memories only") {
		t.Fatalf("memories only: %q", m.Content)
	}
}

func mustFind(t *testing.T, s *system, slug, viewer string) store.Personality {
	t.Helper()
	p, err := s.db.Store.Characters.Find(context.Background(), slug, viewer, false)
	if err != nil {
		t.Fatalf("find %s: %v", slug, err)
	}
	return p
}
