package discordtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"
)

// interactionState is an interaction and everything the bot did with it.
type interactionState struct {
	i         *discordgo.Interaction
	responses []*discordgo.InteractionResponse
	original  *discordgo.Message // set by a type 4 or 5 callback
	followups []*discordgo.Message
	// components are those of the first callback (a message's buttons, a modal's inputs),
	// as sent: discordgo's interface-typed components survive no copy.
	components json.RawMessage
}

// message finds "@original" or a followup by id.
func (st *interactionState) message(id string) *discordgo.Message {
	if id == "@original" {
		return st.original
	}
	if st.original != nil && st.original.ID == id {
		return st.original
	}
	for _, m := range st.followups {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// Interact has userID run a slash command in channelID and dispatches
// INTERACTION_CREATE. A missing data.ID is filled from the registered
// command of that name, a missing type with CHAT_INPUT. The returned
// interaction carries the token the bot must answer with.
func (s *Server) Interact(channelID, userID string, data discordgo.ApplicationCommandInteractionData) *discordgo.Interaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fillCommandLocked(channelID, &data)
	return s.interactLocked(channelID, userID, discordgo.InteractionApplicationCommand, data)
}

// Autocomplete has userID type into a slash command option (the focused one has
// Focused set), as Discord sends while the user types.
func (s *Server) Autocomplete(channelID, userID string, data discordgo.ApplicationCommandInteractionData) *discordgo.Interaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fillCommandLocked(channelID, &data)
	return s.interactLocked(channelID, userID, discordgo.InteractionApplicationCommandAutocomplete, data)
}

// SubmitModal has userID submit a modal the bot opened: values maps each text input's
// custom id to what the user typed.
func (s *Server) SubmitModal(channelID, userID, customID string, values map[string]string) *discordgo.Interaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := modalSubmitData{CustomID: customID}
	for id, v := range values {
		data.Components = append(data.Components, &discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			&discordgo.TextInput{CustomID: id, Value: v},
		}})
	}
	return s.interactLocked(channelID, userID, discordgo.InteractionModalSubmit, data)
}

// modalSubmitData is discordgo.ModalSubmitInteractionData as Discord sends it: discordgo
// can read its components but never writes them (the field is tagged "-").
type modalSubmitData struct {
	CustomID   string                       `json:"custom_id"`
	Components []discordgo.MessageComponent `json:"components"`
}

// Type implements discordgo.InteractionData.
func (modalSubmitData) Type() discordgo.InteractionType { return discordgo.InteractionModalSubmit }

// Click has userID press a button (or pick from a select menu) with customID.
func (s *Server) Click(channelID, userID, customID string, values ...string) *discordgo.Interaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := discordgo.MessageComponentInteractionData{CustomID: customID, ComponentType: discordgo.ButtonComponent, Values: values}
	if len(values) > 0 {
		data.ComponentType = discordgo.SelectMenuComponent
	}
	return s.interactLocked(channelID, userID, discordgo.InteractionMessageComponent, data)
}

// SetPermissions sets the permissions a member's interactions carry (what Discord
// computes from roles and channel overwrites).
func (s *Server) SetPermissions(guildID, userID string, perms int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs := s.mustGuildLocked(guildID)
	m, ok := gs.members[userID]
	if !ok {
		panic(fmt.Sprintf("discordtest: SetPermissions: %s is not a member of %s", userID, guildID))
	}
	m.Permissions = perms
}

func (s *Server) fillCommandLocked(channelID string, data *discordgo.ApplicationCommandInteractionData) {
	cs, ok := s.channels[channelID]
	if !ok {
		panic(fmt.Sprintf("discordtest: unknown channel %s", channelID))
	}
	if data.CommandType == 0 {
		data.CommandType = discordgo.ChatApplicationCommand
	}
	if data.ID == "" {
		for _, c := range s.commandsLocked(cs.ch.GuildID) {
			if c.Name == data.Name {
				data.ID = c.ID
			}
		}
	}
}

func (s *Server) interactLocked(channelID, userID string, typ discordgo.InteractionType, data discordgo.InteractionData) *discordgo.Interaction {
	cs, ok := s.channels[channelID]
	if !ok {
		panic(fmt.Sprintf("discordtest: unknown channel %s", channelID))
	}
	u, ok := s.users[userID]
	if !ok {
		panic(fmt.Sprintf("discordtest: unknown user %s", userID))
	}
	id, _ := s.ids.next(time.Now())
	locale := discordgo.EnglishUS
	i := &discordgo.Interaction{
		ID:        id,
		AppID:     s.opts.ApplicationID,
		Type:      typ,
		Data:      data,
		GuildID:   cs.ch.GuildID,
		ChannelID: channelID,
		Locale:    locale,
		Token:     "aW50ZXJhY3Rpb246" + randomToken(120),
		Version:   1,
		AppPermissions: discordgo.PermissionViewChannel | discordgo.PermissionSendMessages |
			discordgo.PermissionManageWebhooks | discordgo.PermissionReadMessageHistory,
	}
	if gs, ok := s.guilds[cs.ch.GuildID]; ok {
		m := discordgo.Member{Roles: []string{}}
		if gm, ok := gs.members[userID]; ok {
			m = *gm
		}
		m.User = clone(u)
		m.GuildID = ""
		i.Member = &m
		i.GuildLocale = &locale
		i.Context = discordgo.InteractionContextGuild
		i.AuthorizingIntegrationOwners = map[discordgo.ApplicationIntegrationType]string{discordgo.ApplicationIntegrationGuildInstall: cs.ch.GuildID}
	} else {
		i.User = clone(u)
		i.Context = discordgo.InteractionContextBotDM
		i.AuthorizingIntegrationOwners = map[discordgo.ApplicationIntegrationType]string{discordgo.ApplicationIntegrationUserInstall: userID}
	}
	s.interactions[id] = &interactionState{i: i}
	s.interactionTokens[i.Token] = s.interactions[id]
	s.dispatchLocked("INTERACTION_CREATE", i, func(g *gwSession) bool { return g.handlesGuild(i.GuildID) })
	return clone(i)
}

// WaitForInteractionResponse blocks until the bot answered an interaction (or ctx ends).
func (s *Server) WaitForInteractionResponse(ctx context.Context, interactionID string) (*discordgo.InteractionResponse, error) {
	for {
		if r := s.InteractionResponses(interactionID); len(r) > 0 {
			return r[0], nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// InteractionResponses returns the callbacks the bot sent for an
// interaction, in order (Discord accepts only the first).
func (s *Server) InteractionResponses(interactionID string) []*discordgo.InteractionResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.interactions[interactionID]
	if !ok {
		return nil
	}
	out := make([]*discordgo.InteractionResponse, len(st.responses))
	for i, r := range st.responses {
		out[i] = clone(r)
	}
	return out
}

// InteractionMessages returns the interaction's reply (after any edits of
// @original, e.g. filling a deferred reply) followed by its followups,
// ephemeral ones included.
func (s *Server) InteractionMessages(interactionID string) []*discordgo.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.interactions[interactionID]
	if !ok {
		return nil
	}
	var out []*discordgo.Message
	if st.original != nil {
		out = append(out, clone(st.original))
	}
	for _, m := range st.followups {
		out = append(out, clone(m))
	}
	return out
}

// interactionForTokenLocked recognises the interaction webhook: the
// application id with an interaction token in place of a webhook's.
func (s *Server) interactionForTokenLocked(id, token string) *interactionState {
	if id != s.opts.ApplicationID {
		return nil
	}
	return s.interactionTokens[token]
}

// callbackBody is an interaction response as sent; components stay raw.
type callbackBody struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data *struct {
		TTS             bool                                        `json:"tts"`
		Content         string                                      `json:"content"`
		Embeds          []*discordgo.MessageEmbed                   `json:"embeds"`
		AllowedMentions *discordgo.MessageAllowedMentions           `json:"allowed_mentions"`
		Flags           discordgo.MessageFlags                      `json:"flags"`
		Choices         []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
		CustomID        string                                      `json:"custom_id"`
		Title           string                                      `json:"title"`
		Components      json.RawMessage                             `json:"components"`
	} `json:"data"`
}

func (s *Server) interactionCallback(w http.ResponseWriter, r *http.Request) {
	var body callbackBody
	files, ok := decodeBody(w, r, &body)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.interactions[r.PathValue("id")]
	if !ok || st.i.Token != r.PathValue("token") {
		notFound(w, "interaction")
		return
	}
	if len(st.responses) > 0 {
		writeError(w, http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
		return
	}
	resp := &discordgo.InteractionResponse{Type: body.Type}
	var content string
	var embeds []*discordgo.MessageEmbed
	var flags discordgo.MessageFlags
	if d := body.Data; d != nil {
		content, embeds, flags = d.Content, d.Embeds, d.Flags
		resp.Data = &discordgo.InteractionResponseData{TTS: d.TTS, Content: d.Content, Embeds: d.Embeds,
			AllowedMentions: d.AllowedMentions, Flags: d.Flags, Choices: d.Choices, CustomID: d.CustomID, Title: d.Title}
		if len(st.responses) == 0 {
			st.components = d.Components
		}
	}
	switch body.Type {
	case discordgo.InteractionResponseChannelMessageWithSource:
		if !validateMessage(w, content, embeds, len(files)) {
			return
		}
	case discordgo.InteractionResponseDeferredChannelMessageWithSource:
		content, embeds = "", nil
		flags = flags&discordgo.MessageFlagsEphemeral | discordgo.MessageFlagsLoading
	case discordgo.InteractionApplicationCommandAutocompleteResult, discordgo.InteractionResponseModal:
	default:
		writeFormError(w, "type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
		return
	}
	st.responses = append(st.responses, resp)
	if body.Type == discordgo.InteractionResponseChannelMessageWithSource || body.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
		st.original = s.interactionMessageLocked(st, content, embeds, flags)
		st.original.Components = decodeComponents(st.components)
		s.attachLocked(st.original, files)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) followupLocked(w http.ResponseWriter, st *interactionState, body *messageBody, files []upload, wait bool) {
	if len(st.responses) == 0 {
		notFound(w, "Webhook") // nothing to follow up yet
		return
	}
	m := s.interactionMessageLocked(st, body.content(), body.embeds(), body.Flags&discordgo.MessageFlagsEphemeral)
	s.attachLocked(m, files)
	st.followups = append(st.followups, m)
	if wait {
		writeJSON(w, http.StatusOK, restMessage(m))
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
}

// interactionMessageLocked creates a bot message answering an interaction.
// Ephemeral messages are shown only to the invoker: not stored in the channel
// and not dispatched.
func (s *Server) interactionMessageLocked(st *interactionState, content string, embeds []*discordgo.MessageEmbed, flags discordgo.MessageFlags) *discordgo.Message {
	cs := s.channels[st.i.ChannelID]
	m := s.newMessageLocked(cs, clone(s.bot), content, nil)
	m.Type = discordgo.MessageTypeChatInputCommand
	m.Flags = flags
	m.WebhookID = s.opts.ApplicationID
	if embeds != nil {
		m.Embeds = embeds
	}
	invoker := st.i.User
	if st.i.Member != nil {
		invoker = st.i.Member.User
	}
	name := ""
	if d, ok := st.i.Data.(discordgo.ApplicationCommandInteractionData); ok {
		name = d.Name
	}
	m.Interaction = &discordgo.MessageInteraction{ID: st.i.ID, Type: st.i.Type, Name: name, User: clone(invoker)}
	s.addMentionsLocked(m, nil)
	if flags&discordgo.MessageFlagsEphemeral == 0 {
		if cs.ch.GuildID != "" {
			m.Member = s.messageMemberLocked(cs.ch.GuildID, s.bot.ID)
		}
		s.storeLocked(cs, m)
		s.dispatchMessageLocked("MESSAGE_CREATE", m)
	}
	return m
}

// attachLocked hosts the files the bot sent with an interaction answer on the simulated
// CDN and lists them on its message, as Discord does.
func (s *Server) attachLocked(m *discordgo.Message, files []upload) {
	for _, f := range files {
		m.Attachments = append(m.Attachments, s.attachmentLocked(m.ChannelID, attachmentSpec{filename: f.filename, contentType: f.contentType, data: f.data, hosted: true}))
	}
}

// InteractionComponents returns the components of the bot's first answer to an
// interaction: a message's buttons and menus, or a modal's text inputs (with the values
// it prefilled).
func (s *Server) InteractionComponents(interactionID string) []discordgo.MessageComponent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.interactions[interactionID]; ok {
		return decodeComponents(st.components)
	}
	return nil
}

// decodeComponents reads raw components; discordgo decodes them only inside a message.
func decodeComponents(raw json.RawMessage) []discordgo.MessageComponent {
	if len(raw) == 0 {
		return nil
	}
	var m discordgo.Message
	if json.Unmarshal(append(append([]byte(`{"components":`), raw...), '}'), &m) != nil {
		return nil
	}
	return m.Components
}
