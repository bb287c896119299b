package workers_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/api/serviceerror"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/discord"
	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workers"
	"github.com/tzurot/tzurot/workflows"
)

// safetyClock is the guard's clock in these tests: it stands still until advanced.
type safetyClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *safetyClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *safetyClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// safetyLimits puts limits and a clock on the running gateway for one test; the rest of
// the package runs without rate limits.
func safetyLimits(t *testing.T, s *system, l discord.Limits) *safetyClock {
	t.Helper()
	g := s.st.Gateway.Guard
	clock := &safetyClock{t: time.Now()}
	l.Now = clock.Now
	prev := g.Limits()
	g.SetLimits(l)
	t.Cleanup(func() { g.SetLimits(prev) })
	return clock
}

// safetyOperator adds a user the bot treats as an operator for one test.
func safetyOperator(t *testing.T, s *system) *discordgo.User {
	t.Helper()
	op := s.sim.AddUser("operator-"+fmt.Sprint(time.Now().UnixNano()), "Operator")
	bot := s.st.Gateway.Interactions
	prev := bot.Superusers
	next := maps.Clone(prev)
	if next == nil {
		next = map[string]bool{}
	}
	next[op.ID] = true
	bot.Superusers = next
	t.Cleanup(func() { bot.Superusers = prev })
	return op
}

// settle makes sure the gateway has handled what was sent so far: a new user sends a
// mention that must start a workflow, and it waits for that to finish. Messages are
// handled as they arrive and the guard decides in microseconds, long before a workflow
// completes.
func (s *system) settle(t *testing.T, channelID string) {
	t.Helper()
	u := s.sim.AddUser("barrier", "Barrier")
	m := s.sim.Say(channelID, u.ID, "@Bob barrier")
	s.waitConversation(t, m.ID)
}

// noWorkflow fails when a message started a workflow.
func (s *system) noWorkflow(t *testing.T, messageIDs ...string) {
	t.Helper()
	for _, id := range messageIDs {
		_, err := s.client.DescribeWorkflowExecution(context.Background(), workflows.ConversationID(id), "")
		var nf *serviceerror.NotFound
		if !errorsAs(err, &nf) {
			t.Errorf("message %s started a workflow (describe: %v)", id, err)
		}
	}
}

// botNotices returns what the bot posted in a channel as itself (not as a character).
func (s *system) botNotices(channelID string) []*discordgo.Message {
	var out []*discordgo.Message
	for _, m := range s.sim.Messages(channelID) {
		if m.WebhookID == "" && m.Author != nil && m.Author.ID == s.services.BotUserID {
			out = append(out, m)
		}
	}
	return out
}

func (s *system) waitNotices(t *testing.T, channelID string, n int) []*discordgo.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.botNotices(channelID)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func safetyGroup(name string, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
	return []*discordgo.ApplicationCommandInteractionDataOption{{Name: name, Type: discordgo.ApplicationCommandOptionSubCommandGroup,
		Options: []*discordgo.ApplicationCommandInteractionDataOption{{Name: sub, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}}}}
}

func safetyOpt(name string, typ discordgo.ApplicationCommandOptionType, value string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: typ, Value: value}
}

func TestSpammerGetsOneNoticeAndNoWorkflowsPastTheLimit(t *testing.T) {
	s := requireSystem(t)
	clock := safetyLimits(t, s, discord.Limits{UserPerMinute: 6, UserBurst: 3, ChannelPerMinute: 20, ChannelBurst: 8, NoticeCooldown: time.Minute})
	ch := s.channel(t)
	spammer := s.sim.AddUser("spammer", "Spammer")

	for i := range 3 {
		m := s.sim.Say(ch.ID, spammer.ID, fmt.Sprintf("@Lilith hello %d", i))
		s.waitConversation(t, m.ID)
	}
	over := []string{
		s.sim.Say(ch.ID, spammer.ID, "@Lilith one more").ID,
		s.sim.Say(ch.ID, spammer.ID, "@Lilith and another").ID,
	}
	notices := s.waitNotices(t, ch.ID, 1)
	s.settle(t, ch.ID)
	s.noWorkflow(t, over...)
	notices = s.botNotices(ch.ID)
	if len(notices) != 1 {
		t.Fatalf("%d notices, want exactly 1: %+v", len(notices), notices)
	}
	n := notices[0]
	if !strings.Contains(n.Content, "skipped") || !strings.Contains(n.Content, "Try again in 10 seconds") {
		t.Errorf("notice = %q", n.Content)
	}
	if n.MessageReference == nil || (n.MessageReference.MessageID != over[0] && n.MessageReference.MessageID != over[1]) {
		t.Errorf("the notice answers %+v, want one of the dropped messages %v", n.MessageReference, over)
	}

	// Ten seconds later one token is back: the spammer is heard again, once.
	clock.advance(10 * time.Second)
	ok := s.sim.Say(ch.ID, spammer.ID, "@Lilith patiently")
	if res := s.waitConversation(t, ok.ID); len(res.Replies) != 1 || res.Replies[0].Failed {
		t.Fatalf("after the wait: %+v", res)
	}
	again := s.sim.Say(ch.ID, spammer.ID, "@Lilith impatiently")
	s.settle(t, ch.ID)
	s.noWorkflow(t, again.ID)
	if got := len(s.botNotices(ch.ID)); got != 1 {
		t.Errorf("%d notices within the cooldown, want still 1", got)
	}

	// Talking to people (replies to humans, Discord mentions) never counts toward the limit.
	human := s.sim.Say(ch.ID, s.user.ID, "hi all")
	for i := range 3 {
		s.sim.Say(ch.ID, spammer.ID, fmt.Sprintf("sure <@%s> %d", s.user.ID, i), discordtest.ReplyTo(human.ID))
	}
	s.settle(t, ch.ID)
	if got := len(s.botNotices(ch.ID)); got != 1 {
		t.Errorf("chatting with humans drew notices: %d, want still 1", got)
	}
}

func TestDeniedUserAndServerStartNothing(t *testing.T) {
	s := requireSystem(t)
	op := safetyOperator(t, s)
	ch := s.channel(t)
	troll := s.sim.AddUser("troll", "Troll")
	deny := func(userID, grp, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
		t.Helper()
		return content(s.command(t, ch.ID, userID, discordgo.ApplicationCommandInteractionData{Name: "deny", Options: safetyGroup(grp, sub, opts...)}))
	}

	if got := deny(s.user.ID, "user", "add", safetyOpt("user", discordgo.ApplicationCommandOptionUser, troll.ID)); !strings.Contains(got, "Only the bot's operators") {
		t.Fatalf("a non-operator's /deny: %q", got)
	}
	if got := deny(op.ID, "user", "add", safetyOpt("user", discordgo.ApplicationCommandOptionUser, troll.ID),
		safetyOpt("reason", discordgo.ApplicationCommandOptionString, "flooding #general")); !strings.Contains(got, "Denied <@"+troll.ID+">") {
		t.Fatalf("/deny user add: %q", got)
	}
	dropped := s.sim.Say(ch.ID, troll.ID, "@Lilith hello?")
	s.settle(t, ch.ID)
	s.noWorkflow(t, dropped.ID)
	if got := len(s.botNotices(ch.ID)); got != 0 {
		t.Errorf("a denied user drew %d bot messages, want silence", got)
	}
	if got := deny(op.ID, "user", "browse"); !strings.Contains(got, troll.ID) || !strings.Contains(got, "flooding #general") {
		t.Errorf("/deny user browse: %q", got)
	}
	if got := deny(op.ID, "user", "remove", safetyOpt("user", discordgo.ApplicationCommandOptionUser, troll.ID)); !strings.Contains(got, "Lifted") {
		t.Fatalf("/deny user remove: %q", got)
	}
	back := s.sim.Say(ch.ID, troll.ID, "@Lilith sorry")
	if res := s.waitConversation(t, back.ID); len(res.Replies) != 1 {
		t.Fatalf("after the denial was lifted: %+v", res)
	}

	// A whole server.
	other := s.sim.AddGuild("Denied Guild")
	otherCh := s.sim.AddChannel(other.ID, "general")
	if got := deny(op.ID, "server", "add", safetyOpt("server", discordgo.ApplicationCommandOptionString, other.ID)); !strings.Contains(got, "Denied server") {
		t.Fatalf("/deny server add: %q", got)
	}
	t.Cleanup(func() { _, _ = s.db.Store.Safety.Undeny(context.Background(), store.DenyGuild, other.ID) })
	inDenied := s.sim.Say(otherCh.ID, s.user.ID, "@Lilith anyone here?")
	s.settle(t, ch.ID)
	s.noWorkflow(t, inDenied.ID)
	if got := deny(op.ID, "server", "browse"); !strings.Contains(got, other.ID) {
		t.Errorf("/deny server browse: %q", got)
	}
}

func TestRestrictAllowModeBlocksOtherChannels(t *testing.T) {
	s := requireSystem(t)
	// A server of its own: a restriction on the shared one would silence other tests.
	guild := s.sim.AddGuild("Restricted Guild")
	bots := s.sim.AddChannel(guild.ID, "bots")
	general := s.sim.AddChannel(guild.ID, "general")
	admin := s.sim.AddUser("admin", "Admin")
	restrict := func(userID, channelID, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
		t.Helper()
		return content(s.command(t, channelID, userID, discordgo.ApplicationCommandInteractionData{Name: "channel", Options: safetyGroup("restrict", sub, opts...)}))
	}

	if got := restrict(admin.ID, bots.ID, "mode", safetyOpt("mode", discordgo.ApplicationCommandOptionString, "allow")); !strings.Contains(got, "Manage Server") {
		t.Fatalf("without Manage Server: %q", got)
	}
	s.sim.SetPermissions(guild.ID, admin.ID, discordgo.PermissionManageGuild)
	got := restrict(admin.ID, bots.ID, "mode", safetyOpt("mode", discordgo.ApplicationCommandOptionString, "allow"))
	if !strings.Contains(got, "only** in <#"+bots.ID+">") {
		t.Fatalf("/channel restrict mode allow: %q", got)
	}

	blocked := s.sim.Say(general.ID, s.user.ID, "@Lilith over here?")
	allowed := s.sim.Say(bots.ID, s.user.ID, "@Lilith hello")
	if res := s.waitConversation(t, allowed.ID); len(res.Replies) != 1 {
		t.Fatalf("in the allowed channel: %+v", res)
	}
	s.noWorkflow(t, blocked.ID)

	if got := restrict(admin.ID, bots.ID, "add", safetyOpt("channel", discordgo.ApplicationCommandOptionChannel, general.ID)); !strings.Contains(got, "<#"+general.ID+">") {
		t.Fatalf("/channel restrict add: %q", got)
	}
	now := s.sim.Say(general.ID, s.user.ID, "@Lilith and now?")
	if res := s.waitConversation(t, now.ID); len(res.Replies) != 1 {
		t.Fatalf("after adding the channel: %+v", res)
	}

	if got := restrict(admin.ID, bots.ID, "mode", safetyOpt("mode", discordgo.ApplicationCommandOptionString, "deny")); !strings.Contains(got, "except") {
		t.Fatalf("/channel restrict mode deny: %q", got)
	}
	quiet := s.sim.Say(bots.ID, s.user.ID, "@Lilith still there?")
	s.settle(t, s.channel(t).ID) // elsewhere: every channel of this server is listed now
	restrict(admin.ID, bots.ID, "mode", safetyOpt("mode", discordgo.ApplicationCommandOptionString, "off"))
	open := s.sim.Say(bots.ID, s.user.ID, "@Lilith everywhere again")
	if res := s.waitConversation(t, open.ID); len(res.Replies) != 1 {
		t.Fatalf("with the restriction off: %+v", res)
	}
	s.noWorkflow(t, quiet.ID)
}

func TestNSFWCharacterNeedsAVerifiedUser(t *testing.T) {
	s := requireSystem(t)
	ctx := context.Background()
	velvet, err := s.db.Store.Personalities.Upsert(ctx, store.Personality{Slug: "velvet", Name: "Velvet", DisplayName: "Velvet",
		CharacterInfo: "Not for the faint of heart.", IsPublic: true, IsNSFW: true})
	if err != nil {
		t.Fatal(err)
	}
	ch := s.channel(t)
	newbie := s.sim.AddUser("newbie", "Newbie")
	acts := workers.NewActivities(s.services)
	resolve := func(content string, nsfwChannel bool) activities.ResolvePersonalitiesResult {
		t.Helper()
		res, err := acts.ResolvePersonalities(ctx, activities.ResolvePersonalitiesInput{Message: activities.MessageSnapshot{
			ID: "resolve-" + fmt.Sprint(time.Now().UnixNano()), ChannelID: ch.ID, GuildID: s.guild.ID,
			AuthorID: newbie.ID, AuthorUsername: newbie.Username, Content: content, ChannelNSFW: nsfwChannel,
		}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	// Unverified, in an ordinary channel: Velvet is withheld with a notice; Lilith answers.
	res := resolve("@Velvet and @Lilith, hi", false)
	if len(res.Personalities) != 1 || res.Personalities[0].ID != s.lilith.ID {
		t.Fatalf("personalities = %+v, want Lilith alone", res.Personalities)
	}
	if len(res.Notices) != 1 || !strings.Contains(res.Notices[0], "Velvet is an NSFW (18+) character") || !strings.Contains(res.Notices[0], "age-restricted channel") {
		t.Fatalf("notices = %q", res.Notices)
	}
	// Through Discord: the workflow runs and Velvet says nothing.
	m := s.sim.Say(ch.ID, newbie.ID, "@Velvet hello")
	if out := s.waitConversation(t, m.ID); len(out.Replies) != 0 {
		t.Fatalf("an unverified user got %+v from an NSFW character", out.Replies)
	}
	var told bool
	for _, n := range s.sim.Messages(ch.ID) {
		if n.Author != nil && n.Author.ID == s.services.BotUserID && n.MessageReference != nil && n.MessageReference.MessageID == m.ID &&
			strings.Contains(n.Content, "NSFW (18+)") {
			told = true
		}
	}
	if !told {
		t.Error("the unverified user was not told why Velvet did not answer")
	}
	for _, p := range s.webhookPosts(ch.ID) {
		if p.Username == velvet.DisplayName && strings.Contains(p.Content, "(stub)") {
			t.Errorf("Velvet answered an unverified user: %q", p.Content)
		}
	}

	// Speaking in an age-restricted channel verifies, once and everywhere.
	adult := s.channel(t)
	s.sim.SetNSFW(adult.ID, true)
	v := s.sim.Say(adult.ID, newbie.ID, "@Velvet hello from the right place")
	if out := s.waitConversation(t, v.ID); len(out.Replies) != 1 || out.Replies[0].Slug != "velvet" || out.Replies[0].Failed {
		t.Fatalf("in the NSFW channel: %+v", out)
	}
	if ok, err := s.db.Store.Safety.NSFWVerified(ctx, newbie.ID); err != nil || !ok {
		t.Fatalf("after speaking in an NSFW channel: verified = %v, %v", ok, err)
	}
	if res := resolve("@Velvet hi", false); len(res.Personalities) != 1 || res.Personalities[0].ID != velvet.ID || len(res.Notices) != 0 {
		t.Fatalf("verified user in an ordinary channel: %+v", res)
	}
}
