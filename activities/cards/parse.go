package cards

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
)

// Parse reads a character card from a PNG (tEXt `ccv3` preferred over `chara`; iTXt and
// zTXt forms accepted), a CHARX zip or a plain JSON file (V1, V2 or V3). It reads at most
// MaxInputSize (20 MB) and rejects any text field over MaxFieldSize (64 KiB). filename
// only words errors and breaks ties; the content decides the format. Every error meant
// for the user is a *ParseError.
func Parse(data []byte, filename string) (*Card, error) {
	if len(data) > MaxInputSize {
		return nil, problem("the file is %s; a character card can be at most %s", megabytes(len(data)), megabytes(MaxInputSize))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, problem("the file is empty")
	}
	var (
		c   *Card
		err error
	)
	switch {
	case bytes.HasPrefix(data, pngSignature):
		c, err = parsePNG(data)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		c, err = parseCHARX(data)
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return nil, problem("this is a JPEG image; character cards are PNG, CHARX or JSON files")
	case bytes.HasPrefix(data, []byte("RIFF")) && len(data) > 12 && string(data[8:12]) == "WEBP":
		return nil, problem("this is a WebP image; character cards are PNG, CHARX or JSON files")
	case strings.EqualFold(filepath.Ext(filename), ".png") && firstByte(trimBOM(data)) != '{':
		return nil, problem("%s is not a PNG image", base(filename))
	default:
		c, err = decodeCardJSON(trimBOM(data))
		if c != nil {
			c.Origin.Format = "json"
		}
	}
	if err != nil {
		return nil, err
	}
	if err := c.checkSizes(); err != nil {
		return nil, err
	}
	return c, nil
}

// parsePNG finds the card chunk: every ccv3 chunk first, then every chara chunk, in file
// order within each. A broken ccv3 chunk gives way to a working chara chunk (with a
// warning); if none works, the first chunk's problem is the answer.
func parsePNG(data []byte) (*Card, error) {
	chunks, err := readChunks(data, "PNG")
	if err != nil {
		return nil, err
	}
	var firstErr error
	var warnings []string
	for _, kw := range cardKeywords {
		for _, ch := range chunks {
			if cardKeyword(ch) != kw {
				continue
			}
			c, err := cardFromChunk(ch, kw)
			if err == nil {
				c.Origin.Format, c.Origin.Chunk = "png", kw
				c.Origin.Avatar, c.Origin.AvatarExt = data, "png"
				c.Origin.Warnings = append(warnings, c.Origin.Warnings...)
				return c, nil
			}
			if firstErr == nil {
				firstErr = err
			}
			warnings = append(warnings, fmt.Sprintf("%s (another chunk was used instead)", err))
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, problem("this PNG has no character card in it")
}

func cardFromChunk(ch chunk, kw string) (*Card, error) {
	if !ch.crcOK() {
		return nil, problem("the card's %s chunk is damaged (its checksum does not match)", kw)
	}
	t, err := decodeText(ch)
	if err != nil {
		return nil, problem("the card's %s chunk could not be unpacked", kw)
	}
	payload := bytes.TrimSpace(t.text)
	if firstByte(payload) != '{' {
		payload, err = decodeBase64(payload)
		if err != nil {
			return nil, problem("the card's %s chunk is not valid base64", kw)
		}
	}
	c, err := decodeCardJSON(trimBOM(payload))
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			return nil, problem("the card's %s chunk: %s", kw, pe.Problem)
		}
		return nil, err
	}
	return c, nil
}

// decodeBase64 accepts what card tools write: standard or URL alphabet, with or without
// padding, with line breaks.
func decodeBase64(b []byte) ([]byte, error) {
	clean := b
	if bytes.ContainsAny(b, "\n\r \t") {
		clean = bytes.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, b)
	}
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		out := make([]byte, enc.DecodedLen(len(clean)))
		var n int
		if n, err = enc.Decode(out, clean); err == nil {
			return out[:n], nil
		}
	}
	return nil, err
}

func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }

// checkSizes rejects the first text field over MaxFieldSize, naming it. Extension values
// are tool data, not prompt text, and are bounded only by MaxInputSize.
func (c *Card) checkSizes() error {
	check := func(name, v string) error {
		if len(v) > MaxFieldSize {
			return problem("the card's %s is %d bytes long; a field can be at most %d bytes (64 KiB)", name, len(v), MaxFieldSize)
		}
		return nil
	}
	for _, f := range c.fields() {
		if s, ok := f.ptr.(*string); ok {
			if err := check(f.key, *s); err != nil {
				return err
			}
		}
	}
	lists := map[string][]string{"alternate_greetings": c.AlternateGreetings, "group_only_greetings": c.GroupOnlyGreetings, "tags": c.Tags, "source": c.Source}
	for _, name := range []string{"alternate_greetings", "group_only_greetings", "tags", "source"} {
		for i, v := range lists[name] {
			if err := check(fmt.Sprintf("%s #%d", name, i+1), v); err != nil {
				return err
			}
		}
	}
	for lang, v := range c.CreatorNotesMultilingual {
		if err := check("creator_notes_multilingual "+lang, v); err != nil {
			return err
		}
	}
	if c.CharacterBook != nil {
		return c.CharacterBook.checkText(check)
	}
	return nil
}

func megabytes(n int) string {
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

func base(name string) string {
	if name == "" {
		return "the file"
	}
	return filepath.Base(name)
}
