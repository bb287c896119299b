package discordtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

// Request is one REST call as the simulator saw it. The Authorization header
// is never kept, and webhook or interaction tokens in the path are replaced
// by "REDACTED": tests assert that the bot leaks no secret, so the simulator
// must not hold any either.
type Request struct {
	Method string
	Path   string // without host or query, e.g. /api/v9/channels/123/messages
	Query  string // raw query string
	Route  string // the matched pattern, e.g. "POST /webhooks/{id}/{token}"; "" if none
	Status int
	At     time.Time
}

// routes registers every REST endpoint. Patterns are relative to /api/v9 and
// double as the Route in Requests and the key for FailNext.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	// Routes registered with token need no bot Authorization: the token in
	// the path authorises them, as on Discord. GET /gateway is public.
	s.tokenRoutes = map[string]bool{}
	add := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, h) }
	token := func(pattern string, h http.HandlerFunc) {
		s.tokenRoutes[pattern] = true
		mux.HandleFunc(pattern, h)
	}

	token("GET /gateway", s.getGateway)
	add("GET /gateway/bot", s.getGatewayBot)
	add("GET /users/@me", s.getMe)
	add("GET /users/{id}", s.getUser)
	add("POST /users/@me/channels", s.createDM)
	add("GET /guilds/{id}", s.getGuild)
	add("GET /guilds/{id}/channels", s.getGuildChannels)
	add("GET /guilds/{id}/members/{user}", s.getMember)
	add("GET /guilds/{id}/webhooks", s.getGuildWebhooks)

	add("GET /channels/{id}", s.getChannel)
	add("GET /channels/{id}/messages", s.getMessages)
	add("POST /channels/{id}/messages", s.createMessage)
	add("GET /channels/{id}/messages/{mid}", s.getMessage)
	add("PATCH /channels/{id}/messages/{mid}", s.editMessage)
	add("DELETE /channels/{id}/messages/{mid}", s.deleteMessage)
	add("POST /channels/{id}/typing", s.typingStart)

	add("GET /channels/{id}/webhooks", s.getChannelWebhooks)
	add("POST /channels/{id}/webhooks", s.createWebhook)
	add("GET /webhooks/{id}", s.getWebhook)
	add("PATCH /webhooks/{id}", s.editWebhook)
	add("DELETE /webhooks/{id}", s.deleteWebhook)
	token("GET /webhooks/{id}/{token}", s.getWebhookWithToken)
	token("POST /webhooks/{id}/{token}", s.executeWebhook)
	token("DELETE /webhooks/{id}/{token}", s.deleteWebhookWithToken)
	token("GET /webhooks/{id}/{token}/messages/{mid}", s.getWebhookMessage)
	token("PATCH /webhooks/{id}/{token}/messages/{mid}", s.editWebhookMessage)
	token("DELETE /webhooks/{id}/{token}/messages/{mid}", s.deleteWebhookMessage)

	for _, base := range []string{"/applications/{app}/commands", "/applications/{app}/guilds/{g}/commands"} {
		add("GET "+base, s.listCommands)
		add("PUT "+base, s.overwriteCommands)
		add("POST "+base, s.createCommand)
		add("GET "+base+"/{cmd}", s.getCommand)
		add("PATCH "+base+"/{cmd}", s.editCommand)
		add("DELETE "+base+"/{cmd}", s.deleteCommand)
	}
	token("POST /interactions/{id}/{token}/callback", s.interactionCallback)
	return mux
}

// bufferedResponse holds a handler's answer until the handler has returned
// (and released the Server mutex), so a client that reads slowly can never
// stall the simulator while it holds the lock.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) flush(w http.ResponseWriter) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// serveAPI is the REST front door: version prefix, route lookup, bot
// authorisation, injected failures, rate-limit headers, then the handler.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	for _, prefix := range []string{"/api/v9/", "/api/v10/", "/api/"} {
		if strings.HasPrefix(path, prefix) {
			path = "/" + strings.TrimPrefix(path, prefix)
			break
		}
	}
	inner := r.Clone(r.Context())
	inner.URL.Path = path
	inner.URL.RawPath = ""
	_, route := s.api.Handler(inner)

	rec := &bufferedResponse{header: w.Header()}
	bucket := route
	if bucket == "" {
		bucket = r.Method + " " + path
	}
	setRateLimitHeaders(rec.Header(), bucket) // on every answer, errors included
	defer func() {
		// Record before answering, so a caller that got its response always
		// finds the call in Requests.
		s.mu.Lock()
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: redactPath(r.URL.Path), Query: r.URL.RawQuery,
			Route: route, Status: rec.status, At: time.Now(),
		})
		if len(s.requests) > maxRequestsKept {
			s.requests = append([]Request(nil), s.requests[len(s.requests)-maxRequestsKept/2:]...)
		}
		s.mu.Unlock()
		rec.flush(w)
	}()

	if route == "" {
		if s.otherMethodMatches(inner) {
			writeError(rec, http.StatusMethodNotAllowed, 0, "405: Method Not Allowed")
		} else {
			writeError(rec, http.StatusNotFound, 0, "404: Not Found")
		}
		return
	}
	if !s.tokenRoutes[route] && r.Header.Get("Authorization") != "Bot "+s.opts.BotToken {
		writeError(rec, http.StatusUnauthorized, 0, "401: Unauthorized")
		return
	}
	if s.injectFailure(rec, r.Method, route, path) {
		return
	}
	s.api.ServeHTTP(rec, inner)
}

// otherMethodMatches tells a 405 (known path, wrong method) from a 404.
func (s *Server) otherMethodMatches(r *http.Request) bool {
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.api.Handler(probe); p != "" {
			return true
		}
	}
	return false
}

// redactPath hides the token segment of webhook and interaction paths
// (/webhooks/{id}/{token}/..., /interactions/{id}/{token}/callback), on
// known and unknown routes alike.
func redactPath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if (p == "webhooks" || p == "interactions") && i+2 < len(parts) {
			parts[i+2] = "REDACTED"
			break
		}
	}
	return strings.Join(parts, "/")
}

// Discord's error envelope.
type apiError struct {
	Message string          `json:"message"`
	Code    int             `json:"code"`
	Errors  json.RawMessage `json:"errors,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, apiError{Message: message, Code: code})
}

// writeFormError answers 400 "Invalid Form Body" (50035) with the nested
// errors object Discord uses, e.g. {"content":{"_errors":[...]}}.
func writeFormError(w http.ResponseWriter, field, code, message string) {
	var nested any = map[string]any{"_errors": []map[string]string{{"code": code, "message": message}}}
	parts := strings.Split(field, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		nested = map[string]any{parts[i]: nested}
	}
	writeJSON(w, http.StatusBadRequest, apiError{Message: "Invalid Form Body", Code: 50035, Errors: mustJSON(nested)})
}

// decodeBody reads a JSON body, or the payload_json part of a multipart body
// (files become returned uploads). On failure it has already answered 400
// with code 50109 as Discord does for malformed JSON.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) ([]upload, bool) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var payload []byte
	var files []upload
	if ct == "multipart/form-data" {
		mr := multipart.NewReader(io.LimitReader(r.Body, 32<<20), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
				return nil, false
			}
			data, err := io.ReadAll(part)
			if err != nil {
				writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
				return nil, false
			}
			if part.FormName() == "payload_json" {
				payload = data
			} else if part.FileName() != "" {
				files = append(files, upload{filename: part.FileName(), contentType: part.Header.Get("Content-Type"), data: data})
			}
		}
	} else {
		var err error
		if payload, err = io.ReadAll(io.LimitReader(r.Body, 8<<20)); err != nil {
			writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
			return nil, false
		}
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if err := json.Unmarshal(payload, v); err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return nil, false
	}
	return files, true
}

// upload is a file sent by the bot in a multipart body.
type upload struct {
	filename, contentType string
	data                  []byte
}

func notFound(w http.ResponseWriter, what string) {
	codes := map[string]int{
		"Channel": 10003, "Guild": 10004, "Message": 10008, "Member": 10007,
		"User": 10013, "Webhook": 10015, "interaction": 10062, "application command": 10063,
	}
	writeError(w, http.StatusNotFound, codes[what], "Unknown "+what)
}

// String names the simulator by its address, for logs and test failures.
func (s *Server) String() string { return fmt.Sprintf("discordtest.Server(%s)", s.URL()) }
