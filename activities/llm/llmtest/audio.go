package llmtest

import (
	"bytes"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// VoicePrefix marks a stub "audio" file: "VOICE: hello there" transcribes to "hello there".
const VoicePrefix = "VOICE:"

// handleTranscription answers POST /v1/audio/transcriptions like OpenAI's Whisper API: a
// multipart form with "file" and "model"; {"text": ...}. The "audio" is text starting with
// VoicePrefix, so tests choose what is said; anything else is undecodable (400), as real
// garbage audio is.
func (s *Stub) handleTranscription(w http.ResponseWriter, r *http.Request, c *call) {
	if _, ok := s.authorize(w, c); !ok {
		return
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		s.badRequest(w, c, "file", "Could not parse multipart form")
		return
	}
	form, err := multipart.NewReader(bytes.NewReader(c.body), params["boundary"]).ReadForm(32 << 20)
	if err != nil {
		s.badRequest(w, c, "file", "Could not parse multipart form")
		return
	}
	defer func() { _ = form.RemoveAll() }()
	if len(form.Value["model"]) == 0 || form.Value["model"][0] == "" {
		s.badRequest(w, c, "model", "you must provide a model parameter")
		return
	}
	files := form.File["file"]
	if len(files) == 0 {
		s.badRequest(w, c, "file", "you must provide a file")
		return
	}
	f, err := files[0].Open()
	if err != nil {
		s.badRequest(w, c, "file", "Could not read the file")
		return
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		s.badRequest(w, c, "file", "Could not read the file")
		return
	}
	text := buf.String()
	if !strings.HasPrefix(text, VoicePrefix) {
		s.badRequest(w, c, "file", "The audio file could not be decoded or its format is not supported.")
		return
	}
	s.write(w, c, http.StatusOK, map[string]any{"text": strings.TrimSpace(strings.TrimPrefix(text, VoicePrefix))})
}
