package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Limits on what is read from a response. A chat reply is a few KiB; an embeddings
// response for a batch is a few MiB.
const (
	maxErrorBody   = 1 << 20
	maxSuccessBody = 64 << 20
	maxPeekBody    = 64 << 10 // kept from a success body to explain an empty reply
)

// exchange is the go-openai HTTPDoer for exactly one API call. A fresh one is made per
// Complete/Embed call, so what it records (status, headers, error body) belongs to that
// call alone and concurrent calls never share state. It refuses to send a second request:
// retries are Temporal's job, and nothing below this layer may add its own.
type exchange struct {
	http     *http.Client
	appName  string
	appURL   string
	merge    map[string]json.RawMessage // top-level body fields to set, last word wins
	sent     bool                       // a request was handed to the HTTP client
	status   int                        // 0 until response headers arrive
	header   http.Header
	errBody  []byte
	peekBody *peekReader
}

var errSecondRequest = errors.New("llm: refusing a second HTTP request for one call")

// Do sends the request after merging the extra body fields and adding OpenRouter's app
// attribution headers, and records what came back.
func (x *exchange) Do(req *http.Request) (*http.Response, error) {
	if x.sent {
		return nil, errSecondRequest
	}
	if len(x.merge) > 0 && req.Body != nil {
		if err := x.rewriteBody(req); err != nil {
			return nil, err
		}
	}
	if x.appName != "" {
		req.Header.Set("X-Title", x.appName)
	}
	if x.appURL != "" {
		req.Header.Set("HTTP-Referer", x.appURL)
	}
	x.sent = true
	resp, err := x.http.Do(req)
	if err != nil {
		return nil, err
	}
	x.status, x.header = resp.StatusCode, resp.Header
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		x.errBody = body
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	x.peekBody = &peekReader{r: io.LimitReader(resp.Body, maxSuccessBody), c: resp.Body}
	resp.Body = x.peekBody
	return resp, nil
}

// rewriteBody sets the merge fields on the JSON object go-openai built. go-openai's chat
// request has no extension map, and its float fields are omitempty (a temperature of 0
// would vanish), so the fields we own are written here.
func (x *exchange) rewriteBody(req *http.Request) error {
	raw, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("request body is not a JSON object: %w", err)
	}
	for k, v := range x.merge {
		body[k] = v
	}
	out, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(out))
	req.ContentLength = int64(len(out))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(out)), nil }
	return nil
}

// peekReader passes a success body through while keeping its first bytes.
type peekReader struct {
	r    io.Reader
	c    io.Closer
	head []byte
}

func (p *peekReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if room := maxPeekBody - len(p.head); room > 0 && n > 0 {
		p.head = append(p.head, b[:min(n, room)]...)
	}
	return n, err
}

func (p *peekReader) Close() error { return p.c.Close() }

// peeked is the start of the success body, if any was read.
func (x *exchange) peeked() []byte {
	if x.peekBody == nil {
		return nil
	}
	return x.peekBody.head
}

// classify maps whatever go-openai returned into an *Error, using what the exchange saw
// on the wire rather than go-openai's error text (which may quote the provider's body).
func (x *exchange) classify(ctx context.Context, err error, apiKey string) *Error {
	now := time.Now()
	switch {
	case x.status != 0 && (x.status < 200 || x.status >= 300):
		return classifyHTTP(x.status, x.header, x.errBody, apiKey, now)
	case isContextEnd(ctx, err):
		return contextError(contextCause(ctx, err))
	case isTimeout(err):
		return newError(KindTimeout, x.status, "HTTP client timeout", apiKey)
	case !x.sent:
		// go-openai refused the request before sending it (its own validation).
		return newError(KindBadRequest, 0, "invalid request: "+err.Error(), apiKey)
	case x.status == 0:
		return newError(KindNetwork, 0, transportMessage(err), apiKey)
	default:
		return newError(KindServer, x.status, "unreadable response: "+err.Error(), apiKey)
	}
}

// isContextEnd reports whether the call's own context ended, which is the caller's doing
// (an activity deadline or cancellation), not the provider's.
func isContextEnd(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func contextCause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return context.DeadlineExceeded
}

// isTimeout catches http.Client.Timeout and dial/read timeouts.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// transportMessage drops the method and URL that *url.Error prepends: the cause is what
// matters and the URL is configuration.
func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}
