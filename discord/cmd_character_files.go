package discord

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // avatars may be GIFs
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/cards"
	"github.com/tzurot/tzurot/activities/shapes"
	"github.com/tzurot/tzurot/store"
)

// Files in and out of /character: imports (cards and shapes.inc backups), exports (V3
// PNG or JSON cards) and avatars.
//
// Avatars are hosted by Discord: the bot sends the picture to its owner by direct
// message and the webhook uses that attachment's CDN URL. Nothing else has to serve
// files, but the URL lives as long as that message (and Discord signs attachment URLs
// that it may expire), so the bytes are also kept in personality_avatars.
const (
	// maxImportSize: a card is at most cards.MaxInputSize; a shapes.inc zip may fill
	// Discord's 25 MB upload.
	maxImportSize = 25 << 20
	maxAvatarSize = 8 << 20
	maxAvatarSide = 4096
)

// fetchFile downloads a file (an attachment from Discord's CDN, an avatar URL) with the
// session's HTTP client, which tests point at the simulator. At most limit bytes.
func (b *Bot) fetchFile(ctx context.Context, url string, limit int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, Userf("I cannot read that file's address.")
	}
	client := b.Session.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", path.Base(req.URL.Path), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, Userf("I could not download the file (HTTP %d); attach it again.", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", path.Base(req.URL.Path), err)
	}
	if len(data) > limit {
		return nil, Userf("The file is larger than %s.", megabytes(limit))
	}
	return data, nil
}

func megabytes(n int) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// characterImport reads a card or a shapes.inc backup and creates the character in one
// transaction: a file that cannot be read gets the reader's own explanation and creates
// nothing.
func (b *Bot) characterImport(ctx context.Context, c *Call, u store.User) error {
	att, err := c.Attachment("file", "Attach a character card (PNG, CHARX or JSON) or a shapes.inc backup (zip or JSON).")
	if err != nil {
		return err
	}
	if att.Size > maxImportSize {
		return Userf("Nothing imported: that file is %s; an import can be at most %s.", megabytes(att.Size), megabytes(maxImportSize))
	}
	if err := c.Defer(); err != nil {
		return err
	}
	data, err := b.fetchFile(ctx, att.URL, maxImportSize)
	if err != nil {
		return err
	}
	started := time.Now()
	imp, err := readImport(data, att.Filename, u)
	if err != nil {
		return err
	}
	created, err := b.Store.Characters.Create(ctx, imp.character)
	if errors.Is(err, store.ErrInvalid) {
		return Userf("Nothing imported: %s.", strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	}
	if err != nil {
		return err
	}
	p := created.Personality
	b.Logger.Info("character imported", "slug", p.Slug, "source", imp.source, "bytes", len(data), "memories", created.Memories, "took", time.Since(started))
	notes := imp.notes
	if a := imp.character.Avatar; a != nil && p.AvatarURL == "" && len(a.Data) <= maxAvatarSize {
		if url, err := b.hostAvatar(ctx, c.User.ID, p, a.Data); err != nil {
			notes = append(notes, "its picture was kept but is not its avatar yet: "+err.Error())
		} else if err := b.Store.Characters.SetAvatar(ctx, p.ID, url, *a); err != nil {
			return err
		}
	}
	msg := fmt.Sprintf("Imported **%s** (`%s`) from %s. It is private: only you can talk to it (`/character visibility public` shares it).",
		p.DisplayName, p.Slug, imp.source)
	if created.Memories > 0 {
		msg += fmt.Sprintf("\n%d memories came with it, remembered about your default persona.", created.Memories)
	}
	if len(imp.offered) > 0 {
		msg += "\nOn shapes.inc it was found by these keywords; they were **not** made aliases (each alias makes it answer to that word). " +
			"`/character alias add` adds the ones you want: " + strings.Join(imp.offered, ", ")
	}
	if len(created.AliasesTaken) > 0 {
		msg += "\nThese aliases belong to another character already and were left out: " + strings.Join(created.AliasesTaken, ", ")
	}
	for _, n := range notes {
		msg += "\n-# " + n
	}
	return c.Reply(msg)
}

// characterImportData is a parsed import, ready to store.
type characterImportData struct {
	character store.NewCharacter
	source    string   // what was read, for the answer
	notes     []string // the readers' warnings
	offered   []string // shapes.inc keywords, offered as aliases
}

// readImport parses a card (PNG, CHARX, JSON) or a shapes.inc backup (zip or single JSON
// file). Its errors are meant for the user.
func readImport(data []byte, filename string, u store.User) (characterImportData, error) {
	if looksLikeShapes(data) {
		bk, err := loadShapes(data, filename)
		if err != nil {
			return characterImportData{}, Userf("Nothing imported: %s.", err)
		}
		n, err := activities.ShapesCharacter(bk, u.ID, u.DefaultPersonaID)
		if err != nil {
			return characterImportData{}, Userf("Nothing imported: %s.", err)
		}
		notes := append([]string{"voice and model settings, knowledge and the rest of the shape's settings are kept with it (they travel in its export); the chat history was not imported"}, bk.Warnings...)
		return characterImportData{character: n, source: "a shapes.inc backup", notes: notes, offered: bk.Aliases}, nil
	}
	card, err := cards.Parse(data, filename)
	var pe *cards.ParseError
	if errors.As(err, &pe) {
		return characterImportData{}, Userf("Nothing imported: %s.", pe.Problem)
	}
	if err != nil {
		return characterImportData{}, err
	}
	n, err := activities.CardCharacter(card, u.ID)
	if err != nil {
		return characterImportData{}, err
	}
	spec := map[string]string{cards.SpecV1: "V1", cards.SpecV2: "V2", cards.SpecV3: "V3"}[card.Origin.Spec]
	return characterImportData{character: n, source: fmt.Sprintf("a %s %s card", spec, strings.ToUpper(card.Origin.Format)), notes: card.Origin.Warnings}, nil
}

// shapesKeys are top-level keys of shapes.inc files (configs, export envelopes,
// memories-only exports) that no character card has.
var shapesKeys = []string{"config", "sourceSlug", "jailbreak", "user_prompt", "engine_model", "username", "shape", "memories"}

// looksLikeShapes tells a shapes.inc backup from a card: a zip without card.json at its
// root (a CHARX has one), or a JSON object with shapes.inc keys and no card spec.
func looksLikeShapes(data []byte) bool {
	if bytes.HasPrefix(data, []byte("PK")) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return false // cards.Parse words the problem
		}
		for _, f := range zr.File {
			if f.Name == "card.json" {
				return false
			}
		}
		return true
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &top) != nil {
		return false
	}
	if top["spec"] != nil || top["data"] != nil {
		return false
	}
	for _, k := range shapesKeys {
		if top[k] != nil {
			return true
		}
	}
	return false
}

func loadShapes(data []byte, filename string) (*shapes.Backup, error) {
	if bytes.HasPrefix(data, []byte("PK")) {
		return shapes.LoadZip(data)
	}
	// A single file (an export envelope, a lone config) is read as a zip holding just it:
	// its name tells the layouts apart.
	name := path.Base(strings.ReplaceAll(filename, `\`, "/"))
	if !strings.EqualFold(path.Ext(name), ".json") || name == "." || name == "/" {
		name += ".json"
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err == nil {
		_, err = w.Write(data)
	}
	if err != nil || zw.Close() != nil {
		return nil, fmt.Errorf("reading %s: %v", name, err)
	}
	return shapes.LoadZip(buf.Bytes())
}

// characterExport sends one of the caller's characters as a V3 card: a PNG (its avatar
// with the card inside; a generated picture when it has none) or JSON.
func (b *Bot) characterExport(ctx context.Context, c *Call, u store.User) error {
	p, err := b.findCharacter(ctx, c, u, true)
	if err != nil {
		return err
	}
	if err := c.Defer(); err != nil {
		return err
	}
	started := time.Now()
	full, ext, err := b.Store.Characters.Card(ctx, p.ID)
	if err != nil {
		return err
	}
	card, err := activities.CharacterCard(full, ext)
	if err != nil {
		return err
	}
	file := &discordgo.File{Name: full.Slug + ".json", ContentType: "application/json"}
	var data []byte
	note := ""
	if c.String("format") == "json" {
		data, err = cards.ExportJSON(card)
	} else {
		var img []byte
		img, note = b.avatarImage(ctx, full)
		data, err = cards.ExportPNG(card, img)
		var pe *cards.ParseError
		if errors.As(err, &pe) { // the stored picture is unusable: draw one instead
			data, err = cards.ExportPNG(card, nil)
			note = "\n-# Its avatar could not be used (" + pe.Problem + "), so the card carries a generated picture."
		}
		file.Name, file.ContentType = full.Slug+".png", "image/png"
	}
	if err != nil {
		return err
	}
	b.Logger.Info("character exported", "slug", full.Slug, "file", file.Name, "bytes", len(data), "took", time.Since(started))
	file.Reader = bytes.NewReader(data)
	return sendRich(c, &discordgo.InteractionResponseData{Files: []*discordgo.File{file},
		Content: fmt.Sprintf("**%s** as a Character Card V3. `/character import` reads it back, and so do other card tools.%s", full.DisplayName, note)})
}

// avatarImage is the picture an exported PNG carries: the uploaded one, else the avatar
// URL downloaded, else none (ExportPNG draws one).
func (b *Bot) avatarImage(ctx context.Context, p store.Personality) ([]byte, string) {
	if a, err := b.Store.Characters.Avatar(ctx, p.ID); err == nil {
		return a.Data, ""
	}
	if !strings.HasPrefix(p.AvatarURL, "https://") && !strings.HasPrefix(p.AvatarURL, "http://") {
		return nil, ""
	}
	data, err := b.fetchFile(ctx, p.AvatarURL, cards.MaxInputSize)
	if err != nil {
		b.Logger.Warn("avatar not downloaded for export", "slug", p.Slug, "err", err)
		return nil, "\n-# Its avatar could not be downloaded, so the card carries a generated picture."
	}
	return data, ""
}

func (b *Bot) characterAvatarSet(ctx context.Context, c *Call, u store.User) error {
	p, err := b.findCharacter(ctx, c, u, true)
	if err != nil {
		return err
	}
	att, err := c.Attachment("image", "Attach the picture: a PNG, JPEG, GIF or WebP image.")
	if err != nil {
		return err
	}
	if att.Size > maxAvatarSize {
		return Userf("That file is %s; an avatar can be at most %s.", megabytes(att.Size), megabytes(maxAvatarSize))
	}
	if ct := strings.ToLower(att.ContentType); ct != "" && !strings.HasPrefix(ct, "image/") {
		return Userf("%s is not a picture (%s): an avatar is a PNG, JPEG, GIF or WebP image.", Truncate(att.Filename, 100), Truncate(ct, 50))
	}
	if err := c.Defer(); err != nil {
		return err
	}
	data, err := b.fetchFile(ctx, att.URL, maxAvatarSize)
	if err != nil {
		return err
	}
	ct, err := checkImage(data)
	if err != nil {
		return err
	}
	url, err := b.hostAvatar(ctx, c.User.ID, p, data)
	if err != nil {
		return Userf("%s", err)
	}
	if err := b.Store.Characters.SetAvatar(ctx, p.ID, url, store.Avatar{ContentType: ct, Data: data}); err != nil {
		return err
	}
	return c.Reply(fmt.Sprintf("**%s** now speaks with this picture. I keep it as the attachment of the direct message I just sent you: "+
		"deleting that message takes the picture away.", p.DisplayName))
}

func (b *Bot) characterAvatarClear(ctx context.Context, c *Call, u store.User) error {
	p, err := b.findCharacter(ctx, c, u, true)
	if err != nil {
		return err
	}
	had, err := b.Store.Characters.ClearAvatar(ctx, p.ID)
	if err != nil {
		return err
	}
	if !had {
		return c.Reply(fmt.Sprintf("**%s** has no picture.", p.DisplayName))
	}
	return c.Reply(fmt.Sprintf("**%s** speaks without a picture now (Discord shows its default).", p.DisplayName))
}

// checkImage accepts PNG, JPEG, GIF and WebP pictures by their content, not their name,
// and refuses ones too large to show.
func checkImage(data []byte) (string, error) {
	ct := http.DetectContentType(data)
	switch ct {
	case "image/webp":
		return ct, nil // the standard library has no WebP decoder; Discord checks it
	case "image/png", "image/jpeg", "image/gif":
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return "", Userf("That picture is damaged; save it again and retry.")
		}
		if cfg.Width > maxAvatarSide || cfg.Height > maxAvatarSide {
			return "", Userf("That picture is %d×%d pixels; an avatar can be at most %d×%d.", cfg.Width, cfg.Height, maxAvatarSide, maxAvatarSide)
		}
		return ct, nil
	}
	return "", Userf("That file is not a picture (it looks like %s): an avatar is a PNG, JPEG, GIF or WebP image.", ct)
}

// hostAvatar sends the picture to discordUserID by direct message and returns its CDN
// URL, which the webhook can show. Its error is worded for the user.
func (b *Bot) hostAvatar(ctx context.Context, discordUserID string, p store.Personality, data []byte) (string, error) {
	ct := http.DetectContentType(data)
	ext := strings.TrimPrefix(ct, "image/")
	if !strings.HasPrefix(ct, "image/") {
		ext = "png"
	}
	m, err := sendDM(ctx, b.Session, discordUserID,
		fmt.Sprintf("The picture of **%s** (`%s`). Keep this message: the character shows this attachment as its avatar.", p.DisplayName, p.Slug),
		&discordgo.File{Name: p.Slug + "." + ext, ContentType: ct, Reader: bytes.NewReader(data)})
	if err != nil || len(m.Attachments) == 0 {
		b.Logger.Warn("avatar not hosted", "slug", p.Slug, "err", err)
		return "", errors.New("I keep avatars as attachments of a direct message to you, and could not send you one; allow direct messages from this server's members and try again")
	}
	return m.Attachments[0].URL, nil
}
