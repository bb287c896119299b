package discord

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/store"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock                   { return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }
func msg(user, guild, channel string) activities.MessageSnapshot {
	return activities.MessageSnapshot{ID: "m", AuthorID: user, GuildID: guild, ChannelID: channel}
}

// fakeRules is SafetyRules in memory, counting loads.
type fakeRules struct {
	mu       sync.Mutex
	deny     store.Denylist
	restrict map[string]store.Restriction
	loads    int
	fail     bool
}

func (f *fakeRules) Denylist(context.Context) (store.Denylist, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	if f.fail {
		return store.Denylist{}, errors.New("database down")
	}
	out := store.Denylist{Users: map[string]bool{}, Guilds: map[string]bool{}}
	for k := range f.deny.Users {
		out.Users[k] = true
	}
	for k := range f.deny.Guilds {
		out.Guilds[k] = true
	}
	return out, nil
}

func (f *fakeRules) Restrictions(context.Context) (map[string]store.Restriction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errors.New("database down")
	}
	out := map[string]store.Restriction{}
	for k, v := range f.restrict {
		out[k] = v
	}
	return out, nil
}

func guardWith(l Limits, rules *fakeRules) (*Guard, *fakeClock) {
	clock := newClock()
	l.Now = clock.Now
	if rules == nil {
		rules = &fakeRules{}
	}
	return NewGuard(rules, l, nil), clock
}

func TestGuardUserBucketAndNoticeCooldown(t *testing.T) {
	g, clock := guardWith(Limits{UserPerMinute: 6, UserBurst: 3, NoticeCooldown: time.Minute}, nil)
	m := msg("alice", "g", "c")
	for i := range 3 {
		if d := g.Check(m, true); d.Verdict != Admitted {
			t.Fatalf("message %d: %+v, want the burst admitted", i+1, d)
		}
	}
	d := g.Check(m, true)
	if d.Verdict != UserRateLimited || d.Notice == "" || d.RetryAfter != 10*time.Second {
		t.Fatalf("4th message: %+v, want limited with a notice and a 10 s wait", d)
	}
	if !strings.Contains(d.Notice, "6 messages a minute") || !strings.Contains(d.Notice, "10 seconds") {
		t.Errorf("notice = %q", d.Notice)
	}
	if d := g.Check(m, true); d.Verdict != UserRateLimited || d.Notice != "" {
		t.Fatalf("5th message: %+v, want limited without a second notice", d)
	}
	if d := g.Check(msg("bob", "g", "c"), true); d.Verdict != Admitted {
		t.Fatalf("another user: %+v, want admitted", d)
	}

	clock.advance(10 * time.Second) // one token back
	if d := g.Check(m, true); d.Verdict != Admitted {
		t.Fatalf("after 10 s: %+v, want admitted", d)
	}
	if d := g.Check(m, true); d.Verdict != UserRateLimited || d.Notice != "" {
		t.Fatalf("still within the notice cooldown: %+v, want a silent limit", d)
	}

	clock.advance(time.Minute) // bucket full again, cooldown over
	for i := range 3 {
		if d := g.Check(m, true); d.Verdict != Admitted {
			t.Fatalf("after a minute, message %d: %+v", i+1, d)
		}
	}
	if d := g.Check(m, true); d.Verdict != UserRateLimited || d.Notice == "" {
		t.Fatalf("after the cooldown: %+v, want a new notice", d)
	}
}

func TestGuardChannelBucket(t *testing.T) {
	g, clock := guardWith(Limits{UserPerMinute: 60, UserBurst: 1, ChannelPerMinute: 20, ChannelBurst: 2}, nil)
	if d := g.Check(msg("a", "g", "c1"), true); d.Verdict != Admitted {
		t.Fatal(d)
	}
	if d := g.Check(msg("b", "g", "c1"), true); d.Verdict != Admitted {
		t.Fatal(d)
	}
	d := g.Check(msg("c", "g", "c1"), true)
	if d.Verdict != ChannelRateLimited || d.Notice == "" || d.RetryAfter != 3*time.Second || !strings.Contains(d.Notice, "busy") {
		t.Fatalf("third message in the channel: %+v", d)
	}
	// One notice per channel per cooldown, whoever writes.
	if d := g.Check(msg("d", "g", "c1"), true); d.Verdict != ChannelRateLimited || d.Notice != "" {
		t.Fatalf("fourth: %+v, want a silent limit", d)
	}
	// The channel refused "c", so c's own bucket is untouched: c may talk elsewhere.
	if d := g.Check(msg("c", "g", "c2"), true); d.Verdict != Admitted {
		t.Fatalf("c in another channel: %+v", d)
	}
	clock.advance(3 * time.Second)
	if d := g.Check(msg("d", "g", "c1"), true); d.Verdict != Admitted {
		t.Fatalf("after 3 s: %+v", d)
	}
}

func TestGuardZeroLimitsAndUnmeteredMessages(t *testing.T) {
	g, _ := guardWith(Limits{}, nil)
	for range 100 {
		if d := g.Check(msg("a", "g", "c"), true); d.Verdict != Admitted {
			t.Fatalf("zero limits limited: %+v", d)
		}
	}
	g.SetLimits(Limits{UserPerMinute: 1, UserBurst: 1, Now: newClock().Now})
	for range 5 {
		if d := g.Check(msg("a", "g", "c"), false); d.Verdict != Admitted {
			t.Fatalf("an unmetered message was limited: %+v", d)
		}
	}
	if got := g.Limits(); got.UserPerMinute != 1 || got.NoticeCooldown != time.Minute {
		t.Errorf("Limits() = %+v, want the new limits with the default cooldown", got)
	}
}

func TestGuardSweepForgetsIdleBuckets(t *testing.T) {
	g, clock := guardWith(Limits{UserPerMinute: 6, UserBurst: 3, ChannelPerMinute: 20, ChannelBurst: 8}, nil)
	for _, u := range []string{"a", "b", "c"} {
		g.Check(msg(u, "g", "c-"+u), true)
	}
	if users, channels := g.Buckets(); users != 3 || channels != 3 {
		t.Fatalf("buckets = %d users, %d channels", users, channels)
	}
	clock.advance(2 * time.Minute)
	g.Check(msg("d", "g", "c-d"), true)
	if users, channels := g.Buckets(); users != 1 || channels != 1 {
		t.Fatalf("after two idle minutes: %d users, %d channels; want only d's", users, channels)
	}
}

func TestGuardDenyCache(t *testing.T) {
	rules := &fakeRules{deny: store.Denylist{Users: map[string]bool{"bad": true}, Guilds: map[string]bool{"badguild": true}}}
	g, clock := guardWith(Limits{}, rules)
	tests := []struct {
		m    activities.MessageSnapshot
		want Verdict
	}{
		{msg("bad", "g", "c"), DeniedUser},
		{msg("bad", "", "dm"), DeniedUser},
		{msg("good", "badguild", "c"), DeniedGuild},
		{msg("good", "g", "c"), Admitted},
		{msg("good", "", "dm"), Admitted},
	}
	for _, tt := range tests {
		if got := g.Check(tt.m, true).Verdict; got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.m, got, tt.want)
		}
	}
	if rules.loads != 1 {
		t.Fatalf("%d loads for five messages, want 1 (cached)", rules.loads)
	}

	rules.mu.Lock()
	rules.deny.Users["late"] = true
	rules.mu.Unlock()
	if got := g.Check(msg("late", "g", "c"), true).Verdict; got != Admitted {
		t.Fatalf("a new denial applied before the refresh: %s", got)
	}
	clock.advance(RulesRefresh)
	if got := g.Check(msg("late", "g", "c"), true).Verdict; got != DeniedUser {
		t.Fatalf("after %s: %s, want denied", RulesRefresh, got)
	}

	rules.mu.Lock()
	delete(rules.deny.Users, "late")
	rules.mu.Unlock()
	g.Invalidate()
	if got := g.Check(msg("late", "g", "c"), true).Verdict; got != Admitted {
		t.Fatalf("after Invalidate: %s, want the lifted denial to apply at once", got)
	}

	// A database error keeps the rules already loaded.
	rules.mu.Lock()
	rules.fail = true
	rules.mu.Unlock()
	g.Invalidate()
	if got := g.Check(msg("bad", "g", "c"), true).Verdict; got != DeniedUser {
		t.Fatalf("with the database down: %s, want the cached denial", got)
	}
}

func TestGuardRestrictModes(t *testing.T) {
	rules := &fakeRules{restrict: map[string]store.Restriction{
		"allowguild": {GuildID: "allowguild", Mode: store.RestrictAllow, Channels: []string{"ok"}},
		"denyguild":  {GuildID: "denyguild", Mode: store.RestrictDeny, Channels: []string{"quiet"}},
	}}
	g, _ := guardWith(Limits{}, rules)
	thread := func(guild, parent string) activities.MessageSnapshot {
		m := msg("u", guild, "thread")
		m.ParentChannelID = parent
		return m
	}
	tests := []struct {
		name string
		m    activities.MessageSnapshot
		want Verdict
	}{
		{"allow: listed", msg("u", "allowguild", "ok"), Admitted},
		{"allow: not listed", msg("u", "allowguild", "other"), Restricted},
		{"allow: thread of a listed channel", thread("allowguild", "ok"), Admitted},
		{"allow: thread elsewhere", thread("allowguild", "other"), Restricted},
		{"deny: listed", msg("u", "denyguild", "quiet"), Restricted},
		{"deny: not listed", msg("u", "denyguild", "other"), Admitted},
		{"deny: thread of a listed channel", thread("denyguild", "quiet"), Restricted},
		{"unrestricted server", msg("u", "free", "quiet"), Admitted},
		{"DM", msg("u", "", "ok"), Admitted},
	}
	for _, tt := range tests {
		if got := g.Check(tt.m, true).Verdict; got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

type activatedSet map[string]bool

func (a activatedSet) IsActivated(id string) bool { return a[id] }

func TestMeteredCountsMessagesForCharacters(t *testing.T) {
	const self = "bot"
	gw := &Gateway{Activated: activatedSet{"active": true}}
	human := &discordgo.Message{ID: "h", Author: &discordgo.User{ID: "someone"}}
	hook := &discordgo.Message{ID: "w", WebhookID: "hook", Author: &discordgo.User{ID: "hook", Bot: true}}
	own := &discordgo.Message{ID: "o", Author: &discordgo.User{ID: self, Bot: true}}
	tests := []struct {
		name    string
		guild   string
		channel string
		content string
		ref     *discordgo.Message
		refID   string
		want    bool
	}{
		{"an @name", "g", "c", "@Lilith hi", nil, "", true},
		{"only a Discord user mention", "g", "c", "hey <@123456789012345678> and <@!42> and <@&7> in <#9>", nil, "", false},
		{"a mention and an @name", "g", "c", "<@123456789012345678> @Lilith", nil, "", true},
		{"reply to a human", "g", "c", "sure", human, "h", false},
		{"reply to a character", "g", "c", "sure", hook, "w", true},
		{"reply to the bot", "g", "c", "sure", own, "o", true},
		{"reply to an unknown message", "g", "c", "sure", nil, "x", true},
		{"DM", "", "dm", "hello", nil, "", true},
		{"activated channel", "g", "active", "hello", nil, "", true},
	}
	for _, tt := range tests {
		m := &discordgo.Message{ChannelID: tt.channel, GuildID: tt.guild, Content: tt.content, ReferencedMessage: tt.ref}
		snap := activities.MessageSnapshot{GuildID: tt.guild, ChannelID: tt.channel, Content: tt.content, ReferencedMessageID: tt.refID}
		if got := gw.metered(m, snap, self); got != tt.want {
			t.Errorf("%s: metered = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSnapshotCarriesChannelNSFW(t *testing.T) {
	st := discordgo.NewState()
	if err := st.GuildAdd(&discordgo.Guild{ID: "g", Name: "G",
		Channels: []*discordgo.Channel{
			{ID: "adult", GuildID: "g", Name: "adult", Type: discordgo.ChannelTypeGuildText, NSFW: true},
			{ID: "plain", GuildID: "g", Name: "plain", Type: discordgo.ChannelTypeGuildText},
		},
		Threads: []*discordgo.Channel{
			{ID: "t-adult", GuildID: "g", ParentID: "adult", Type: discordgo.ChannelTypeGuildPublicThread},
			{ID: "t-plain", GuildID: "g", ParentID: "plain", Type: discordgo.ChannelTypeGuildPublicThread, NSFW: true},
		},
	}); err != nil {
		t.Fatal(err)
	}
	gw := &Gateway{Session: &discordgo.Session{State: st}}
	for channel, want := range map[string]bool{"adult": true, "plain": false, "t-adult": true, "t-plain": false, "unknown": false} {
		snap, _ := gw.Snapshot(&discordgo.Message{ID: "1", ChannelID: channel, GuildID: "g", Content: "@x", Author: &discordgo.User{ID: "u"}}, "bot")
		if snap.ChannelNSFW != want {
			t.Errorf("%s: ChannelNSFW = %v, want %v", channel, snap.ChannelNSFW, want)
		}
	}
}

func TestRoundUp(t *testing.T) {
	for d, want := range map[time.Duration]string{
		100 * time.Millisecond: "a second", 9100 * time.Millisecond: "10 seconds", 10 * time.Second: "10 seconds",
		119 * time.Second: "119 seconds", 150 * time.Second: "3 minutes",
	} {
		if got := roundUp(d); got != want {
			t.Errorf("roundUp(%s) = %q, want %q", d, got, want)
		}
	}
}
