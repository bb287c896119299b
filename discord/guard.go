package discord

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/time/rate"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/store"
)

// Limits are the gateway's rate limits: token buckets per user and per channel, checked
// before a workflow starts so a flood costs neither workflows nor LLM calls. A rate of 0
// turns that limit off (the zero Limits limit nothing); operators start from
// DefaultLimits.
type Limits struct {
	UserPerMinute    float64 // messages one user may send to characters per minute
	UserBurst        int     // how many of them may come at once (at least 1)
	ChannelPerMinute float64 // messages to characters per minute in one channel or thread
	ChannelBurst     int
	// NoticeCooldown is the least time between two rate-limit notices to the same user
	// (or about the same channel), so the notices cannot be used to spam; 0 is a minute.
	NoticeCooldown time.Duration
	// Now is the guard's clock; nil is time.Now. Tests inject one.
	Now func() time.Time
}

// DefaultLimits suit a community bot: a person may send a few messages in a row and
// about one every ten seconds after that; a channel gets one every three seconds.
func DefaultLimits() Limits {
	return Limits{UserPerMinute: 6, UserBurst: 3, ChannelPerMinute: 20, ChannelBurst: 8, NoticeCooldown: time.Minute}
}

// RulesRefresh is how often the guard reloads the denylist and channel restrictions;
// commands that change them invalidate the cache at once on their replica.
const RulesRefresh = 30 * time.Second

// SafetyRules is what the guard reads from the database; store.Safety implements it.
type SafetyRules interface {
	Denylist(ctx context.Context) (store.Denylist, error)
	Restrictions(ctx context.Context) (map[string]store.Restriction, error)
}

var _ SafetyRules = (*store.Safety)(nil)

// Verdict is the guard's decision about one message.
type Verdict string

// The verdicts, in the order they are checked.
const (
	Admitted           Verdict = "admitted"
	DeniedUser         Verdict = "denied-user"
	DeniedGuild        Verdict = "denied-guild"
	Restricted         Verdict = "channel-restricted"
	UserRateLimited    Verdict = "user-rate-limited"
	ChannelRateLimited Verdict = "channel-rate-limited"
)

// Decision is a verdict with what to tell the user.
type Decision struct {
	Verdict Verdict
	// RetryAfter is when the limited bucket has a token again.
	RetryAfter time.Duration
	// Notice is what the bot says in the channel; "" stays silent (denied, restricted, or a
	// notice was already given within the cooldown).
	Notice string
}

// Guard decides, before any workflow starts, whether a message may reach the characters:
// denied users and servers never do, a server's channel restriction is honoured, and
// users and channels are rate limited. Rules come from the database through a cache
// reloaded every RulesRefresh (or after Invalidate); buckets live in memory, one set per
// gateway replica.
type Guard struct {
	rules  SafetyRules
	logger *slog.Logger

	pmu      sync.Mutex // rules cache
	loaded   bool
	loadedAt time.Time
	deny     store.Denylist
	restrict map[string]restriction

	mu       sync.Mutex // limits and buckets
	limits   Limits
	users    map[string]*bucket
	channels map[string]*bucket
	swept    time.Time
}

type restriction struct {
	mode     store.RestrictMode
	channels map[string]bool
}

// bucket is one user's or channel's token bucket (nil limiter: unlimited) and when it
// was last told about a limit.
type bucket struct {
	lim     *rate.Limiter
	burst   int
	noticed time.Time
}

// NewGuard builds a guard over the rules with the given limits.
func NewGuard(rules SafetyRules, l Limits, logger *slog.Logger) *Guard {
	if logger == nil {
		logger = slog.Default()
	}
	g := &Guard{rules: rules, logger: logger}
	g.SetLimits(l)
	return g
}

// SetLimits replaces the limits (and the clock) and starts every bucket afresh.
func (g *Guard) SetLimits(l Limits) {
	if l.NoticeCooldown <= 0 {
		l.NoticeCooldown = time.Minute
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limits = l
	g.users, g.channels = map[string]*bucket{}, map[string]*bucket{}
	g.swept = time.Time{}
}

// Limits returns the limits in force.
func (g *Guard) Limits() Limits {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limits
}

// Invalidate makes the next message reload the denylist and restrictions.
func (g *Guard) Invalidate() {
	if g == nil {
		return
	}
	g.pmu.Lock()
	g.loaded = false
	g.pmu.Unlock()
}

// Check decides about one message. metered says whether it counts toward the rate
// limits (it looks addressed to a character); rules apply to every message.
func (g *Guard) Check(m activities.MessageSnapshot, metered bool) Decision {
	g.mu.Lock()
	now := g.now()
	g.mu.Unlock()
	if v := g.rulesVerdict(m, now); v != Admitted {
		return Decision{Verdict: v}
	}
	if !metered {
		return Decision{Verdict: Admitted}
	}
	return g.take(m, now)
}

func (g *Guard) now() time.Time {
	if g.limits.Now != nil {
		return g.limits.Now()
	}
	return time.Now()
}

// rulesVerdict applies the denylist and the server's channel restriction. A thread
// follows its parent's place on the list (or its own, if listed itself).
func (g *Guard) rulesVerdict(m activities.MessageSnapshot, now time.Time) Verdict {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	if !g.loaded || now.Sub(g.loadedAt) >= RulesRefresh || now.Before(g.loadedAt) {
		g.reload(now)
	}
	switch {
	case g.deny.Users[m.AuthorID]:
		return DeniedUser
	case m.GuildID != "" && g.deny.Guilds[m.GuildID]:
		return DeniedGuild
	}
	r, ok := g.restrict[m.GuildID]
	if m.GuildID == "" || !ok {
		return Admitted
	}
	listed := r.channels[m.ChannelID] || (m.ParentChannelID != "" && r.channels[m.ParentChannelID])
	if (r.mode == store.RestrictAllow && !listed) || (r.mode == store.RestrictDeny && listed) {
		return Restricted
	}
	return Admitted
}

// reload reads the rules; on an error the previous ones stay until the next refresh.
func (g *Guard) reload(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if deny, err := g.rules.Denylist(ctx); err == nil {
		g.deny = deny
	} else {
		g.logger.Warn("denylist not reloaded; keeping the previous one", "err", err)
	}
	if rs, err := g.rules.Restrictions(ctx); err == nil {
		g.restrict = make(map[string]restriction, len(rs))
		for id, r := range rs {
			set := make(map[string]bool, len(r.Channels))
			for _, ch := range r.Channels {
				set[ch] = true
			}
			g.restrict[id] = restriction{mode: r.Mode, channels: set}
		}
	} else {
		g.logger.Warn("channel restrictions not reloaded; keeping the previous ones", "err", err)
	}
	g.loaded, g.loadedAt = true, now
}

// take spends one token of the user's and one of the channel's bucket, or neither.
func (g *Guard) take(m activities.MessageSnapshot, now time.Time) Decision {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.limits
	g.sweep(now)
	ub := g.bucket(g.users, m.AuthorID, l.UserPerMinute, l.UserBurst)
	cb := g.bucket(g.channels, m.ChannelID, l.ChannelPerMinute, l.ChannelBurst)
	if wait := ub.wait(now); wait > 0 {
		d := Decision{Verdict: UserRateLimited, RetryAfter: wait}
		if ub.mayNotice(now, l.NoticeCooldown) {
			ub.noticed = now
			d.Notice = fmt.Sprintf("Easy there! Characters answer at most %s from one person, so this message was skipped. Try again in %s.",
				perMinute(l.UserPerMinute), roundUp(wait))
		}
		return d
	}
	if wait := cb.wait(now); wait > 0 {
		d := Decision{Verdict: ChannelRateLimited, RetryAfter: wait}
		if ub.mayNotice(now, l.NoticeCooldown) && cb.mayNotice(now, l.NoticeCooldown) {
			ub.noticed, cb.noticed = now, now
			d.Notice = fmt.Sprintf("This channel is busy: characters answer at most %s here, so this message was skipped. Try again in %s.",
				perMinute(l.ChannelPerMinute), roundUp(wait))
		}
		return d
	}
	ub.spend(now)
	cb.spend(now)
	return Decision{Verdict: Admitted}
}

func (g *Guard) bucket(in map[string]*bucket, key string, perMinute float64, burst int) *bucket {
	b, ok := in[key]
	if ok {
		return b
	}
	b = &bucket{}
	if perMinute > 0 {
		b.burst = max(burst, 1)
		b.lim = rate.NewLimiter(rate.Limit(perMinute/60), b.burst)
	}
	in[key] = b
	return b
}

// wait is how long until the bucket holds a whole token (0: now).
func (b *bucket) wait(now time.Time) time.Duration {
	if b.lim == nil {
		return 0
	}
	missing := 1 - b.lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(b.lim.Limit()) * float64(time.Second))
}

func (b *bucket) spend(now time.Time) {
	if b.lim != nil {
		b.lim.AllowN(now, 1)
	}
}

func (b *bucket) mayNotice(now time.Time, cooldown time.Duration) bool {
	return b.noticed.IsZero() || now.Sub(b.noticed) >= cooldown
}

// sweep forgets buckets that are full again and past their notice cooldown, at most once
// a minute, so memory follows the active users rather than everyone ever seen.
func (g *Guard) sweep(now time.Time) {
	if now.Sub(g.swept) < time.Minute && !now.Before(g.swept) {
		return
	}
	g.swept = now
	for _, m := range []map[string]*bucket{g.users, g.channels} {
		for k, b := range m {
			idle := b.lim == nil || b.lim.TokensAt(now) >= float64(b.burst)
			if idle && b.mayNotice(now, g.limits.NoticeCooldown) {
				delete(m, k)
			}
		}
	}
}

// Buckets reports how many users and channels the guard is tracking.
func (g *Guard) Buckets() (users, channels int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.users), len(g.channels)
}

func perMinute(r float64) string {
	n := strconv.FormatFloat(r, 'f', -1, 64)
	if r == 1 {
		return "1 message a minute"
	}
	return n + " messages a minute"
}

func roundUp(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	switch {
	case s <= 1:
		return "a second"
	case s < 120:
		return fmt.Sprintf("%d seconds", s)
	}
	return fmt.Sprintf("%d minutes", (s+59)/60)
}

// discordMention is Discord's markup for a user, role or channel mention, whose "@" or
// "#" is not a character's name.
var discordMention = regexp.MustCompile(`<(@[!&]?|#)\d+>`)

// metered reports whether a message counts toward the rate limits: whether it looks
// addressed to a character (a DM, an activated channel, a reply to a character's or the
// bot's message, an @ that is not a Discord mention). A human answering another human
// is never told to slow down.
func (g *Gateway) metered(m *discordgo.Message, snap activities.MessageSnapshot, selfID string) bool {
	if snap.GuildID == "" {
		return true
	}
	if g.Activated != nil && (g.Activated.IsActivated(snap.ChannelID) || g.Activated.IsActivated(snap.ParentChannelID)) {
		return true
	}
	if snap.ReferencedMessageID != "" {
		ref := m.ReferencedMessage
		if ref == nil || ref.WebhookID != "" || ref.Author == nil || ref.Author.ID == selfID {
			return true
		}
	}
	return strings.Contains(discordMention.ReplaceAllString(snap.Content, ""), "@")
}

// admit asks the guard whether a message may start a workflow. A rate-limited message is
// logged with its id and, once per cooldown, answered with a short notice; denied and
// restricted ones are dropped quietly (logged at debug level).
func (g *Gateway) admit(ctx context.Context, m *discordgo.Message, snap activities.MessageSnapshot, selfID string) bool {
	if g.Guard == nil {
		return true
	}
	d := g.Guard.Check(snap, g.metered(m, snap, selfID))
	switch d.Verdict {
	case Admitted:
		return true
	case UserRateLimited, ChannelRateLimited:
		g.Logger.Info("message dropped: rate limited", "reason", string(d.Verdict), "message_id", snap.ID,
			"user_id", snap.AuthorID, "channel_id", snap.ChannelID, "retry_after", d.RetryAfter, "notified", d.Notice != "")
		if d.Notice != "" {
			g.postNotice(ctx, snap, d.Notice)
		}
	default:
		g.Logger.Debug("message dropped", "reason", string(d.Verdict), "message_id", snap.ID,
			"user_id", snap.AuthorID, "guild_id", snap.GuildID, "channel_id", snap.ChannelID)
	}
	return false
}

// postNotice answers a message as the bot itself, without pinging anyone.
func (g *Gateway) postNotice(ctx context.Context, snap activities.MessageSnapshot, text string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := sendNotice(ctx, g.Session, snap.ChannelID, snap.GuildID, snap.ID, text); err != nil {
		g.Logger.Warn("rate-limit notice not posted", "message_id", snap.ID, "channel_id", snap.ChannelID, "err", err)
	}
}

// Notice posts a short message as the bot itself (not as a character), as a reply to
// replyTo that pings nobody: what a user should know instead of an answer. The gateway's
// rate-limit notices use it; a workflow's notices (an NSFW character withheld) can go
// through it from an activity. Errors are classified like Post's.
func (r *REST) Notice(ctx context.Context, channelID, guildID, replyTo, text string) (string, error) {
	id, err := sendNotice(ctx, r.s, channelID, guildID, replyTo, text)
	return id, classify("send notice", err)
}

func sendNotice(ctx context.Context, s *discordgo.Session, channelID, guildID, replyTo, text string) (string, error) {
	send := &discordgo.MessageSend{
		Content:         Truncate(text, MaxMessageLength),
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
	}
	if replyTo != "" {
		keep := false // the message may be gone; say it anyway
		send.Reference = &discordgo.MessageReference{MessageID: replyTo, ChannelID: channelID, GuildID: guildID, FailIfNotExists: &keep}
	}
	m, err := s.ChannelMessageSendComplex(channelID, send, discordgo.WithContext(ctx))
	if err != nil {
		return "", err
	}
	return m.ID, nil
}
