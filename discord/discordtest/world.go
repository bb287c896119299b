package discordtest

import (
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"
)

// AddGuild creates a guild the bot is a member of (with an @everyone role) and
// announces it with GUILD_CREATE to connected sessions. Every user added so
// far becomes a member, as does every user added later.
func (s *Server) AddGuild(name string) *discordgo.Guild {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, now := s.ids.next(time.Now())
	g := &discordgo.Guild{
		ID:              id,
		Name:            name,
		OwnerID:         s.bot.ID,
		JoinedAt:        now,
		PreferredLocale: "en-US",
		Roles: []*discordgo.Role{{
			ID:          id, // @everyone shares the guild id
			Name:        "@everyone",
			Permissions: discordgo.PermissionViewChannel | discordgo.PermissionSendMessages | discordgo.PermissionReadMessageHistory,
		}},
		Emojis:   []*discordgo.Emoji{},
		Features: []discordgo.GuildFeature{},
	}
	gs := &guildState{guild: g, members: map[string]*discordgo.Member{}}
	s.guilds[id] = gs
	s.guildOrder = append(s.guildOrder, id)
	s.addMemberLocked(gs, s.bot, now)
	for _, u := range s.users {
		if u.ID != s.bot.ID {
			s.addMemberLocked(gs, u, now)
		}
	}
	s.dispatchGuildCreateLocked(gs)
	return clone(s.guildPayloadLocked(gs))
}

// AddChannel creates a text channel in a guild and dispatches CHANNEL_CREATE.
// It panics if the guild does not exist: that is a bug in the test.
func (s *Server) AddChannel(guildID, name string) *discordgo.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs := s.mustGuildLocked(guildID)
	id, _ := s.ids.next(time.Now())
	ch := &discordgo.Channel{
		ID:                   id,
		GuildID:              guildID,
		Name:                 name,
		Type:                 discordgo.ChannelTypeGuildText,
		Position:             len(gs.channels),
		PermissionOverwrites: []*discordgo.PermissionOverwrite{},
	}
	s.channels[id] = &channelState{ch: ch}
	gs.channels = append(gs.channels, id)
	s.dispatchLocked("CHANNEL_CREATE", ch, guildEvent(guildID))
	return clone(ch)
}

// SetNSFW marks a guild channel age-restricted (or not) and dispatches CHANNEL_UPDATE,
// so the channel objects of GUILD_CREATE, CHANNEL_UPDATE and GET /channels carry
// `nsfw`. Threads have no flag of their own on Discord: mark the parent. It panics on
// an unknown channel, a thread or a DM: that is a bug in the test.
func (s *Server) SetNSFW(channelID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.channels[channelID]
	if !ok || cs.ch.GuildID == "" || isThread(cs.ch) {
		panic(fmt.Sprintf("discordtest: SetNSFW: %s is not a guild channel", channelID))
	}
	cs.ch.NSFW = on
	s.dispatchLocked("CHANNEL_UPDATE", cs.ch, guildEvent(cs.ch.GuildID))
}

// AddThread creates a public thread under a text channel and dispatches
// THREAD_CREATE. Threads have no webhooks of their own: webhook posts reach
// them through the parent's webhook with ?thread_id=, as on Discord.
func (s *Server) AddThread(parentChannelID, name string) *discordgo.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, ok := s.channels[parentChannelID]
	if !ok || parent.ch.GuildID == "" || isThread(parent.ch) {
		panic(fmt.Sprintf("discordtest: AddThread: %s is not a guild text channel", parentChannelID))
	}
	gs := s.mustGuildLocked(parent.ch.GuildID)
	id, now := s.ids.next(time.Now())
	ch := &discordgo.Channel{
		ID:       id,
		GuildID:  parent.ch.GuildID,
		ParentID: parentChannelID,
		Name:     name,
		Type:     discordgo.ChannelTypeGuildPublicThread,
		OwnerID:  s.bot.ID,
		ThreadMetadata: &discordgo.ThreadMetadata{
			AutoArchiveDuration: 1440,
			ArchiveTimestamp:    now,
		},
		RateLimitPerUser: 0,
		MemberCount:      1,
	}
	s.channels[id] = &channelState{ch: ch}
	gs.channels = append(gs.channels, id)
	s.dispatchLocked("THREAD_CREATE", struct {
		*discordgo.Channel
		NewlyCreated bool `json:"newly_created"`
	}{ch, true}, guildEvent(ch.GuildID))
	return clone(ch)
}

// AddDM returns the direct-message channel between the bot and a user,
// creating it if needed. Like Discord, nothing is dispatched: bots learn of a
// DM from its first MESSAGE_CREATE.
func (s *Server) AddDM(userID string) *discordgo.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		panic(fmt.Sprintf("discordtest: AddDM: unknown user %s", userID))
	}
	return clone(s.dmLocked(u).ch)
}

func (s *Server) dmLocked(u *discordgo.User) *channelState {
	for _, cs := range s.channels {
		if cs.ch.Type == discordgo.ChannelTypeDM && len(cs.ch.Recipients) == 1 && cs.ch.Recipients[0].ID == u.ID {
			return cs
		}
	}
	id, _ := s.ids.next(time.Now())
	cs := &channelState{ch: &discordgo.Channel{
		ID:         id,
		Type:       discordgo.ChannelTypeDM,
		Recipients: []*discordgo.User{clone(u)},
	}}
	s.channels[id] = cs
	return cs
}

// AddUser creates a human user and makes it a member of every guild.
// globalName is the display name Discord shows; it may be empty.
func (s *Server) AddUser(username, globalName string) *discordgo.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, now := s.ids.next(time.Now())
	u := &discordgo.User{ID: id, Username: username, GlobalName: globalName, Discriminator: "0"}
	s.users[id] = u
	for _, gid := range s.guildOrder {
		s.addMemberLocked(s.guilds[gid], u, now)
	}
	return clone(u)
}

// SetNick sets a user's server nickname in a guild, which Discord shows
// instead of the global name; the bot's name resolution can be tested with it.
func (s *Server) SetNick(guildID, userID, nick string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs := s.mustGuildLocked(guildID)
	m, ok := gs.members[userID]
	if !ok {
		panic(fmt.Sprintf("discordtest: SetNick: %s is not a member of %s", userID, guildID))
	}
	m.Nick = nick
}

func (s *Server) addMemberLocked(gs *guildState, u *discordgo.User, joined time.Time) {
	if _, ok := gs.members[u.ID]; ok {
		return
	}
	gs.members[u.ID] = &discordgo.Member{
		GuildID:  gs.guild.ID,
		JoinedAt: joined,
		User:     u,
		Roles:    []string{},
	}
	gs.order = append(gs.order, u.ID)
}

func (s *Server) mustGuildLocked(id string) *guildState {
	gs, ok := s.guilds[id]
	if !ok {
		panic(fmt.Sprintf("discordtest: unknown guild %s", id))
	}
	return gs
}

// guildPayloadLocked is the full guild as GUILD_CREATE carries it: channels,
// active threads, members (the user inside each member, unlike messages).
func (s *Server) guildPayloadLocked(gs *guildState) *discordgo.Guild {
	g := *gs.guild
	g.Channels = []*discordgo.Channel{}
	g.Threads = []*discordgo.Channel{}
	for _, id := range gs.channels {
		ch := s.channels[id].ch
		if isThread(ch) {
			g.Threads = append(g.Threads, ch)
		} else {
			g.Channels = append(g.Channels, ch)
		}
	}
	g.Members = make([]*discordgo.Member, 0, len(gs.order))
	for _, uid := range gs.order {
		m := *gs.members[uid]
		u := *m.User
		m.User = &u
		g.Members = append(g.Members, &m)
	}
	g.MemberCount = len(g.Members)
	g.Presences = []*discordgo.Presence{}
	g.VoiceStates = []*discordgo.VoiceState{}
	return &g
}

// messageMemberLocked is the partial member Discord attaches to guild
// messages: no user inside (the author field carries it), nil outside guilds.
func (s *Server) messageMemberLocked(guildID, userID string) *discordgo.Member {
	gs, ok := s.guilds[guildID]
	if !ok {
		return nil
	}
	m, ok := gs.members[userID]
	if !ok {
		return nil
	}
	out := *m
	out.User = nil
	out.GuildID = ""
	out.Roles = append([]string{}, m.Roles...)
	return &out
}

func isThread(ch *discordgo.Channel) bool {
	switch ch.Type {
	case discordgo.ChannelTypeGuildPublicThread, discordgo.ChannelTypeGuildPrivateThread, discordgo.ChannelTypeGuildNewsThread:
		return true
	}
	return false
}
