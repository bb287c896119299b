package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/tzurot/tzurot/activities/llm"
)

// Attachment kinds, decided from the content type Discord reports (or the extension).
const (
	KindImage = "image"
	KindAudio = "audio"
	KindOther = "other"
)

// maxAudioDownload bounds a voice message download (transcription APIs take 25 MB).
const maxAudioDownload = 25 << 20

// AttachmentKind classifies an attachment.
func AttachmentKind(a Attachment) string {
	ct := strings.ToLower(a.ContentType)
	ext := strings.ToLower(path.Ext(a.Filename))
	switch {
	case strings.HasPrefix(ct, "image/") || ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".gif" || ext == ".webp":
		return KindImage
	case strings.HasPrefix(ct, "audio/") || ext == ".ogg" || ext == ".mp3" || ext == ".wav" || ext == ".m4a" || ext == ".opus":
		return KindAudio
	}
	return KindOther
}

// readAttachments turns a message's attachments into what the model can take: images as
// image parts when the model sees (else a vision model's description), voice messages and
// audio files as their transcript, other files as a short note. Every failure becomes a
// note in the text ("an image that could not be loaded"), never a failed turn. It returns
// the text to add, the image URLs to attach and the tokens spent on descriptions.
func (a *Activities) readAttachments(ctx context.Context, cfg Config, c *llm.Client, apiKey string, atts []Attachment) (notes []string, transcript string, images []string, tokensIn, tokensOut int) {
	maxImages, seen := cfg.MaxImages, 0
	for _, att := range atts {
		switch AttachmentKind(att) {
		case KindImage:
			if seen++; seen > maxImages {
				notes = append(notes, fmt.Sprintf("[Image %s not shown: at most %d images per message]", att.Filename, maxImages))
				continue
			}
			if a.Config.Vision {
				images = append(images, att.URL)
				continue
			}
			desc, in, out, err := a.describeImage(ctx, c, apiKey, att)
			tokensIn, tokensOut = tokensIn+in, tokensOut+out
			if err != nil {
				a.log().Warn("image description failed", "file", att.Filename, "err", err)
				notes = append(notes, fmt.Sprintf("[An image (%s) that could not be viewed]", att.Filename))
				continue
			}
			notes = append(notes, "[Image "+att.Filename+": "+desc+"]")
		case KindAudio:
			text, err := a.transcribe(ctx, c, apiKey, att)
			if err != nil {
				a.log().Warn("transcription failed", "file", att.Filename, "err", err)
				notes = append(notes, fmt.Sprintf("[A voice message (%s) that could not be understood]", att.Filename))
				continue
			}
			transcript = strings.TrimSpace(transcript + " " + text)
		default:
			notes = append(notes, fmt.Sprintf("[Attached file %s (%s): not something I can read]", att.Filename, orUnknown(att.ContentType)))
		}
	}
	return notes, transcript, images, tokensIn, tokensOut
}

func (a *Activities) describeImage(ctx context.Context, c *llm.Client, apiKey string, att Attachment) (string, int, int, error) {
	if a.Config.VisionModel == "" {
		return "", 0, 0, errors.New("no vision model configured")
	}
	resp, err := c.Complete(ctx, apiKey, llm.Request{Model: a.Config.VisionModel, MaxTokens: 300, Messages: []llm.Message{{
		Role: "user", Content: "Describe this image in two or three sentences for someone who cannot see it.", ImageURLs: []string{att.URL},
	}}})
	if err != nil {
		return "", 0, 0, err
	}
	return strings.TrimSpace(resp.Text), resp.PromptTokens, resp.CompletionTokens, nil
}

func (a *Activities) transcribe(ctx context.Context, c *llm.Client, apiKey string, att Attachment) (string, error) {
	if a.Config.TranscriptionModel == "" {
		return "", errors.New("no transcription model configured")
	}
	if att.Size > maxAudioDownload {
		return "", fmt.Errorf("audio of %d bytes is over %d", att.Size, maxAudioDownload)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, att.URL, nil)
	if err != nil {
		return "", err
	}
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download: HTTP %d (expired link?)", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAudioDownload+1))
	if err != nil || len(data) > maxAudioDownload {
		return "", fmt.Errorf("download: %d bytes, %v", len(data), err)
	}
	return c.Transcribe(ctx, apiKey, a.Config.TranscriptionModel, att.Filename, data)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown type"
	}
	return s
}
