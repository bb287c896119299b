package discord

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/store"
)

// browsePage is how many characters one browse page lists.
const browsePage = 10

// characterBrowse is /character browse [owner] [tag] [mine].
func (b *Bot) characterBrowse(ctx context.Context, c *Call, u store.User) error {
	owner := c.String("owner")
	if c.Bool("mine") {
		owner = c.User.ID
	}
	return b.browsePage(ctx, c, u, 0, owner, strings.TrimSpace(c.String("tag")))
}

// characterBrowseButton turns a page: its custom id is char-browse:<page>:<owner>:<tag>.
func (b *Bot) characterBrowseButton(ctx context.Context, c *Call) error {
	u, err := c.user(ctx)
	if err != nil {
		return err
	}
	parts := strings.SplitN(c.Arg, ":", 3)
	if len(parts) != 3 {
		return Userf("This button has expired; run the command again.")
	}
	page, err := strconv.Atoi(parts[0])
	if err != nil || page < 0 {
		return Userf("This button has expired; run the command again.")
	}
	return b.browsePage(ctx, c, u, page, parts[1], parts[2])
}

// browsePage lists one page of the characters the caller may see, filtered by owner (a
// Discord user id) and card tag, with buttons to the neighbouring pages.
func (b *Bot) browsePage(ctx context.Context, c *Call, u store.User, page int, ownerDiscordID, tag string) error {
	q := store.BrowseQuery{ViewerUserID: u.ID, All: b.Superusers[c.User.ID], Tag: Truncate(tag, maxTagFilter), Offset: page * browsePage, Limit: browsePage}
	if ownerDiscordID != "" {
		owner, err := b.Store.Users.ByDiscordID(ctx, ownerDiscordID)
		if errors.Is(err, store.ErrNotFound) {
			return c.Reply(fmt.Sprintf("<@%s> has no characters.", ownerDiscordID))
		}
		if err != nil {
			return err
		}
		q.OwnerUserID = owner.ID
	}
	list, total, err := b.Store.Characters.Browse(ctx, q)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		if page > 0 {
			return c.Reply("There are no more characters; that was the last page.")
		}
		return c.Reply("No character matches. `/character create` makes one; `/character import` brings one in.")
	}
	pages := (total + browsePage - 1) / browsePage
	var lines []string
	for _, l := range list {
		line := fmt.Sprintf("**%s** (`%s`)", l.DisplayName, l.Slug)
		if !l.IsPublic {
			line += " · private"
		}
		if l.IsNSFW {
			line += " · NSFW"
		}
		line += " · " + mentionOr(l.OwnerDiscordID, "the bot")
		if len(l.Tags) > 0 {
			line += " · " + Truncate(strings.Join(l.Tags, ", "), 80)
		}
		lines = append(lines, line)
	}
	title := "Characters"
	if tag != "" {
		title += " tagged " + tag
	}
	e := &discordgo.MessageEmbed{Title: title, Description: strings.Join(lines, "\n"),
		Footer: &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("Page %d of %d · %d characters · /character view shows one", page+1, pages, total)}}
	id := func(p int) string { return "char-browse:" + strconv.Itoa(p) + ":" + ownerDiscordID + ":" + q.Tag }
	var buttons []discordgo.MessageComponent
	if page > 0 {
		buttons = append(buttons, discordgo.Button{Label: "◀ Previous", Style: discordgo.SecondaryButton, CustomID: id(page - 1)})
	}
	if page+1 < pages {
		buttons = append(buttons, discordgo.Button{Label: "Next ▶", Style: discordgo.SecondaryButton, CustomID: id(page + 1)})
	}
	d := &discordgo.InteractionResponseData{Embeds: []*discordgo.MessageEmbed{e}}
	if len(buttons) > 0 {
		d.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: buttons}}
	}
	return sendRich(c, d)
}

// characterAlias is /character alias add|remove|browse. A global alias works for
// everyone and only the owner (or an operator) sets it; a personal alias works for its
// user alone and anyone who can see the character may add one.
func (b *Bot) characterAlias(ctx context.Context, c *Call, u store.User) error {
	p, err := b.findCharacter(ctx, c, u, false)
	if err != nil {
		return err
	}
	if c.Sub == "alias browse" {
		return b.aliasBrowse(ctx, c, u, p)
	}
	alias := strings.Join(strings.Fields(c.String("alias")), " ")
	global := c.Bool("global")
	scope, userID := "a personal alias", u.ID
	if global {
		if !b.mayEdit(c, u, p) {
			return Userf("Only the owner of **%s** sets global aliases; leave `global` out for an alias that works for you alone.", p.DisplayName)
		}
		scope, userID = "a global alias", ""
	}
	if alias == "" || length(alias) > maxAliasLength {
		return Userf("An alias is 1 to %d characters.", maxAliasLength)
	}
	if c.Sub == "alias remove" {
		gone, err := b.Store.Characters.RemoveAlias(ctx, p.ID, alias, userID)
		if err != nil {
			return err
		}
		if !gone {
			return Userf("**%s** has no such alias as %s: %q. `/character alias browse` lists them.", p.DisplayName, scope, alias)
		}
		return c.Reply(fmt.Sprintf("Removed %q, %s for **%s**.", alias, scope, p.DisplayName))
	}
	if other, err := b.Store.Characters.Find(ctx, alias, u.ID, false); err == nil && other.ID != p.ID {
		return Userf("%q already calls **%s**; pick another alias.", alias, other.DisplayName)
	}
	err = b.Store.Characters.AddAlias(ctx, p.ID, alias, userID)
	if errors.Is(err, store.ErrDuplicate) {
		return Userf("%q is already taken as %s; pick another.", alias, scope)
	}
	if err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("**%s** now answers to %q (%s).", p.DisplayName, alias, scope))
}

func (b *Bot) aliasBrowse(ctx context.Context, c *Call, u store.User, p store.Personality) error {
	list, err := b.Store.Characters.Aliases(ctx, p.ID, u.ID)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return c.Reply(fmt.Sprintf("**%s** has no aliases; it answers to its name (%s) and slug (`%s`).", p.DisplayName, p.Name, p.Slug))
	}
	var global, personal []string
	for _, a := range list {
		if a.Personal {
			personal = append(personal, a.Alias)
		} else {
			global = append(global, a.Alias)
		}
	}
	e := &discordgo.MessageEmbed{Title: "Aliases of " + p.DisplayName, Fields: []*discordgo.MessageEmbedField{
		{Name: "Global (everyone)", Value: strings.Join(global, ", ")},
		{Name: "Yours alone", Value: strings.Join(personal, ", ")},
	}}
	return c.ReplyEmbed(e)
}
