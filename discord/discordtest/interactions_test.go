package discordtest

import (
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestApplicationCommandBulkOverwrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.session(t)
	app := w.srv.ApplicationID()
	cmds := []*discordgo.ApplicationCommand{
		{Name: "character", Description: "Manage characters", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: "Who", Required: true},
		}},
		{Name: "wallet", Description: "Your API keys"},
	}
	first, err := sess.ApplicationCommandBulkOverwrite(app, "", cmds)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].ID == "" || first[0].ApplicationID != app || first[0].Type != discordgo.ChatApplicationCommand {
		t.Fatalf("created = %+v", first)
	}
	again, err := sess.ApplicationCommandBulkOverwrite(app, "", cmds[:1])
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].ID != first[0].ID {
		t.Errorf("re-registering kept id %s, want %s", again[0].ID, first[0].ID)
	}
	if _, err := sess.ApplicationCommandBulkOverwrite(app, w.guild.ID, cmds[1:]); err != nil {
		t.Fatal(err)
	}
	got := w.srv.Commands()
	if len(got) != 2 || got[0].Name != "character" || got[1].Name != "wallet" || got[1].GuildID != w.guild.ID {
		t.Errorf("Commands = %+v", got)
	}
	listed, err := sess.ApplicationCommands(app, "")
	if err != nil || len(listed) != 1 {
		t.Errorf("ApplicationCommands = %v, %v", listed, err)
	}

	bad := []struct {
		name string
		cmd  *discordgo.ApplicationCommand
	}{
		{"uppercase name", &discordgo.ApplicationCommand{Name: "Character", Description: "x"}},
		{"no description", &discordgo.ApplicationCommand{Name: "x"}},
		{"bad option name", &discordgo.ApplicationCommand{Name: "x", Description: "x", Options: []*discordgo.ApplicationCommandOption{{Type: 3, Name: "Bad Name", Description: "d"}}}},
	}
	for _, tt := range bad {
		_, err := sess.ApplicationCommandBulkOverwrite(app, "", []*discordgo.ApplicationCommand{tt.cmd})
		restError(t, err, 400, 50035)
	}
	_, err = sess.ApplicationCommandBulkOverwrite("1", "", cmds)
	restError(t, err, 403, 50001)
}

func TestInteractAndRespond(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.open(t)
	interactions := collect[*discordgo.InteractionCreate](sess)
	cmds, err := sess.ApplicationCommandBulkOverwrite(w.srv.ApplicationID(), "", []*discordgo.ApplicationCommand{{Name: "ping", Description: "Ping"}})
	if err != nil {
		t.Fatal(err)
	}

	sent := w.srv.Interact(w.channel.ID, w.user.ID, discordgo.ApplicationCommandInteractionData{Name: "ping"})
	got := recv(t, interactions)
	if got.ID != sent.ID || got.Type != discordgo.InteractionApplicationCommand || got.Token == "" {
		t.Fatalf("INTERACTION_CREATE = %+v", got.Interaction)
	}
	if d := got.ApplicationCommandData(); d.Name != "ping" || d.ID != cmds[0].ID {
		t.Errorf("data = %+v", d)
	}
	if got.Member == nil || got.Member.User == nil || got.Member.User.ID != w.user.ID || got.GuildID != w.guild.ID {
		t.Errorf("member = %+v", got.Member)
	}

	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: &discordgo.InteractionResponseData{Content: "pong"}}
	if err := sess.InteractionRespond(got.Interaction, resp); err != nil {
		t.Fatal(err)
	}
	err = sess.InteractionRespond(got.Interaction, resp)
	restError(t, err, 400, 40060)

	recorded := w.srv.InteractionResponses(sent.ID)
	if len(recorded) != 1 || recorded[0].Type != discordgo.InteractionResponseChannelMessageWithSource || recorded[0].Data.Content != "pong" {
		t.Errorf("InteractionResponses = %+v", recorded)
	}
	if msgs := w.srv.Messages(w.channel.ID); len(msgs) != 1 || msgs[0].Content != "pong" || msgs[0].Interaction == nil {
		t.Errorf("channel = %+v", msgs)
	}
}

func TestDeferredInteractionInDM(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sess := w.open(t)
	interactions := collect[*discordgo.InteractionCreate](sess)
	dm := w.srv.AddDM(w.user.ID)

	sent := w.srv.Interact(dm.ID, w.user.ID, discordgo.ApplicationCommandInteractionData{Name: "wallet"})
	got := recv(t, interactions)
	if got.User == nil || got.User.ID != w.user.ID || got.Member != nil || got.GuildID != "" {
		t.Fatalf("DM interaction user=%+v member=%+v", got.User, got.Member)
	}
	deferred := &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
	}
	if err := sess.InteractionRespond(got.Interaction, deferred); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.InteractionResponseEdit(got.Interaction, &discordgo.WebhookEdit{Content: ptr("your key is saved")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.FollowupMessageCreate(got.Interaction, true, &discordgo.WebhookParams{Content: "one more thing"}); err != nil {
		t.Fatal(err)
	}
	msgs := w.srv.InteractionMessages(sent.ID)
	if len(msgs) != 2 || msgs[0].Content != "your key is saved" || msgs[0].Flags&discordgo.MessageFlagsLoading != 0 || msgs[1].Content != "one more thing" {
		t.Errorf("InteractionMessages = %+v", msgs)
	}
	// The ephemeral reply is visible only to the user; the followup is public.
	if inDM := w.srv.Messages(dm.ID); len(inDM) != 1 || inDM[0].Content != "one more thing" {
		t.Errorf("DM channel = %+v", inDM)
	}
}
