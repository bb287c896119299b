// Package llm calls OpenAI-compatible chat and embedding APIs (OpenRouter by default)
// through go-openai, and turns every failure into a typed *Error that says whether a
// retry can help. The client never retries on its own: retries belong to Temporal.
// The API key is passed per call (users bring their own) and never appears in an error.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// DefaultBaseURL is OpenRouter's OpenAI-compatible API.
const DefaultBaseURL = "https://openrouter.ai/api/v1"

// DefaultTimeout bounds one HTTP exchange when Config.HTTPClient is nil. The activity's
// own deadline (the context) is normally the tighter bound; this one stops a call that
// was given no deadline from hanging forever. Reasoning models can think for minutes.
const DefaultTimeout = 5 * time.Minute

// Config configures a Client. The zero value talks to OpenRouter.
type Config struct {
	BaseURL    string       // API root ending in /v1 or similar; default DefaultBaseURL
	HTTPClient *http.Client // default: a client with DefaultTimeout
	AppName    string       // sent as X-Title (OpenRouter app attribution)
	AppURL     string       // sent as HTTP-Referer (OpenRouter app attribution)
}

// Client is safe for concurrent use. It holds no key: each call brings its own.
type Client struct {
	baseURL string
	http    *http.Client
	appName string
	appURL  string
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	c := &Client{
		baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		http:    cfg.HTTPClient,
		appName: cfg.AppName,
		appURL:  cfg.AppURL,
	}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	return c
}

// Message is one chat message. ImageURLs are sent as image_url content parts (http(s) or
// data: URLs) and are only accepted on user messages, as the OpenAI API requires.
type Message struct {
	Role      string // system, user or assistant
	Name      string // optional speaker name; sanitized to what the API accepts
	Content   string
	ImageURLs []string
}

// Roles accepted in Message.Role.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Request is one chat completion. Nil pointers and zero MaxTokens leave the provider's
// default; a non-nil pointer is always sent, even when it points at zero.
type Request struct {
	Model            string
	Messages         []Message
	Temperature      *float32
	TopP             *float32
	FrequencyPenalty *float32
	PresencePenalty  *float32
	MaxTokens        int
	Stop             []string
	Seed             *int
	// Extra holds provider-specific body fields (top_k, min_p, repetition_penalty,
	// reasoning, provider routing...) merged into the top level of the JSON body. The
	// typed fields above win over Extra; model, messages and stream cannot be set here.
	Extra map[string]any
}

// Response is a successful completion.
type Response struct {
	Text             string
	Reasoning        string // a reasoning model's thinking, from the API fields; never posted
	Model            string // the model that answered, as the provider reports it
	FinishReason     string // stop, length, content_filter...
	PromptTokens     int
	CompletionTokens int
}

// reservedExtra are body fields only the client itself may set.
var reservedExtra = map[string]bool{"model": true, "messages": true, "stream": true}

// Complete sends one chat completion request: exactly one HTTP request, no retries. Every
// failure is an *Error.
func (c *Client) Complete(ctx context.Context, apiKey string, req Request) (Response, error) {
	if strings.TrimSpace(apiKey) == "" {
		return Response{}, newError(KindAuth, 0, "no API key", "")
	}
	creq, merge, err := buildChatRequest(req)
	if err != nil {
		return Response{}, newError(KindBadRequest, 0, err.Error(), apiKey)
	}
	x := c.exchange(merge)
	resp, err := c.openai(apiKey, x).CreateChatCompletion(ctx, creq)
	if err != nil {
		return Response{}, x.classify(ctx, err, apiKey)
	}
	if len(resp.Choices) == 0 {
		return Response{}, emptyReply(x, apiKey)
	}
	choice := resp.Choices[0]
	if strings.TrimSpace(choice.Message.Content) == "" {
		msg := "the model returned no text"
		if choice.FinishReason != "" {
			msg += " (finish_reason " + string(choice.FinishReason) + ")"
		}
		return Response{}, newError(KindEmpty, x.status, msg, apiKey)
	}
	model := resp.Model
	if model == "" {
		model = req.Model
	}
	return Response{
		Text:             choice.Message.Content,
		Reasoning:        reasoningOf(choice.Message.ReasoningContent, x.peeked()),
		Model:            model,
		FinishReason:     string(choice.FinishReason),
		PromptTokens:     resp.Usage.PromptTokens,
		CompletionTokens: resp.Usage.CompletionTokens,
	}, nil
}

// emptyReply explains a 200 without choices. OpenRouter sometimes answers 200 with an
// error object in the body (an upstream failure after routing); that is classified by the
// status it carries rather than reported as an empty reply.
func emptyReply(x *exchange, apiKey string) *Error {
	pe := parseErrorBody(x.peeked(), time.Now())
	if pe.Message != "" && strings.Contains(string(x.peeked()), `"error"`) {
		status := pe.Status
		if status < 400 {
			status = http.StatusBadGateway
		}
		return classifyHTTP(status, x.header, x.peeked(), apiKey, time.Now())
	}
	return newError(KindEmpty, x.status, "the response had no choices", apiKey)
}

// Embed returns one vector per input, in input order, and the tokens billed. An empty
// input list costs nothing and returns nothing.
func (c *Client) Embed(ctx context.Context, apiKey, model string, inputs []string) ([][]float32, int, error) {
	return c.EmbedDims(ctx, apiKey, model, 0, inputs)
}

// EmbedDims is Embed asking for dims dimensions (models that support shortening, such
// as OpenAI's text-embedding-3 family); 0 leaves the model's default. The vector column's
// dimension is fixed by a migration, so the embedder asks for exactly that.
func (c *Client) EmbedDims(ctx context.Context, apiKey, model string, dims int, inputs []string) ([][]float32, int, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, 0, newError(KindAuth, 0, "no API key", "")
	}
	if len(inputs) == 0 {
		return nil, 0, nil
	}
	if model == "" {
		return nil, 0, newError(KindBadRequest, 0, "no embedding model", apiKey)
	}
	for i, in := range inputs {
		if in == "" {
			return nil, 0, newError(KindBadRequest, 0, fmt.Sprintf("input %d is empty", i), apiKey)
		}
	}
	x := c.exchange(nil)
	resp, err := c.openai(apiKey, x).CreateEmbeddings(ctx, openai.EmbeddingRequest{
		Input:          inputs,
		Model:          openai.EmbeddingModel(model),
		EncodingFormat: openai.EmbeddingEncodingFormatFloat,
		Dimensions:     dims,
	})
	if err != nil {
		return nil, 0, x.classify(ctx, err, apiKey)
	}
	if len(resp.Data) != len(inputs) {
		if len(resp.Data) == 0 {
			return nil, 0, emptyReply(x, apiKey)
		}
		return nil, 0, newError(KindServer, x.status,
			fmt.Sprintf("got %d embeddings for %d inputs", len(resp.Data), len(inputs)), apiKey)
	}
	out := make([][]float32, len(inputs))
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(out) || out[d.Index] != nil {
			return nil, 0, newError(KindServer, x.status, fmt.Sprintf("bad embedding index %d", d.Index), apiKey)
		}
		if len(d.Embedding) == 0 {
			return nil, 0, newError(KindEmpty, x.status, fmt.Sprintf("embedding %d is empty", d.Index), apiKey)
		}
		out[d.Index] = d.Embedding
	}
	tokens := resp.Usage.TotalTokens
	if tokens == 0 {
		tokens = resp.Usage.PromptTokens
	}
	return out, tokens, nil
}

func (c *Client) exchange(merge map[string]json.RawMessage) *exchange {
	return &exchange{http: c.http, appName: c.appName, appURL: c.appURL, merge: merge}
}

// openai builds a go-openai client for one call. It is cheap (a struct), and building it
// per call keeps the key and the exchange private to that call.
func (c *Client) openai(apiKey string, x *exchange) *openai.Client {
	cfg := openai.DefaultConfig(apiKey)
	cfg.BaseURL = c.baseURL
	cfg.HTTPClient = x
	return openai.NewClientWithConfig(cfg)
}

// reasoningOf returns a reasoning model's thinking from the API fields: DeepSeek-style
// reasoning_content (parsed by go-openai) or OpenRouter's message.reasoning, which
// go-openai does not know and is read from the kept start of the body.
func reasoningOf(parsed string, body []byte) string {
	if parsed != "" {
		return parsed
	}
	var v struct {
		Choices []struct {
			Message struct {
				Reasoning string `json:"reasoning"`
			} `json:"message"`
		} `json:"choices"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Choices) == 0 {
		return ""
	}
	return v.Choices[0].Message.Reasoning
}

// maxAudioBytes is the largest file sent for transcription (OpenAI's limit is 25 MB).
const maxAudioBytes = 25 << 20

// Transcribe turns an audio file into text through the OpenAI-compatible
// /audio/transcriptions endpoint (Whisper and its clones).
func (c *Client) Transcribe(ctx context.Context, apiKey, model, filename string, audio []byte) (string, error) {
	if strings.TrimSpace(apiKey) == "" {
		return "", newError(KindAuth, 0, "no API key", "")
	}
	if len(audio) == 0 || len(audio) > maxAudioBytes {
		return "", newError(KindBadRequest, 0, fmt.Sprintf("audio of %d bytes (at most %d)", len(audio), maxAudioBytes), apiKey)
	}
	x := c.exchange(nil)
	resp, err := c.openai(apiKey, x).CreateTranscription(ctx, openai.AudioRequest{
		Model: model, FilePath: filename, Reader: bytes.NewReader(audio), Format: openai.AudioResponseFormatJSON,
	})
	if err != nil {
		return "", x.classify(ctx, err, apiKey)
	}
	return strings.TrimSpace(resp.Text), nil
}
