package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/discord/discordtest"
	"github.com/tzurot/tzurot/workflows"
)

// SayRequest is what `tzurot dev say` sends to the dev control endpoint.
type SayRequest struct {
	Content string `json:"content"`
	ReplyTo string `json:"reply_to,omitempty"`
}

// SayResponse lists the replies, in order, once the message's workflow finished.
type SayResponse struct {
	MessageID  string      `json:"message_id"`
	WorkflowID string      `json:"workflow_id"`
	Replies    []SaidReply `json:"replies"`
	Note       string      `json:"note,omitempty"`
}

// SaidReply is one delivered message.
type SaidReply struct {
	Username  string `json:"username"`
	MessageID string `json:"message_id"`
	Content   string `json:"content"`
}

// devWorld is the simulated server a developer talks in.
type devWorld struct {
	sim     *discordtest.Server
	tc      client.Client
	channel string
	user    string
}

// startControl serves POST /say on 127.0.0.1:DevPort: it posts a message in the
// simulator's #general as the dev user and answers when the message's workflow is done.
// The address goes to DATA_DIR/dev.json for `tzurot dev say`.
func startControl(ctx context.Context, cfg DevConfig, sim *discordtest.Server, tc client.Client) (string, error) {
	g := sim.AddGuild("Tzurot Dev")
	w := &devWorld{sim: sim, tc: tc, channel: sim.AddChannel(g.ID, "general").ID, user: sim.AddUser("you", "You").ID}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.DevPort)))
	if err != nil {
		return "", fmt.Errorf("dev control port %d: %w (set --dev-port)", cfg.DevPort, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /say", w.say)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	url := "http://" + ln.Addr().String()
	info, _ := json.Marshal(DevInfo{ControlURL: url})
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "dev.json"), info, 0o644); err != nil {
		return "", err
	}
	return url, nil
}

// maxSayBytes bounds a `dev say` request; Discord's own limit is 4000 characters.
const maxSayBytes = 64 << 10

func (w *devWorld) say(rw http.ResponseWriter, r *http.Request) {
	var req SayRequest
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxSayBytes)).Decode(&req); err != nil || strings.TrimSpace(req.Content) == "" {
		http.Error(rw, "expected JSON {\"content\": \"@Lilith hello\"}", http.StatusBadRequest)
		return
	}
	var opts []discordtest.MessageOption
	if req.ReplyTo != "" {
		opts = append(opts, discordtest.ReplyTo(req.ReplyTo))
	}
	msg, err := w.sim.Post(w.channel, w.user, req.Content, opts...)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	resp := SayResponse{MessageID: msg.ID, WorkflowID: workflows.ConversationID(msg.ID)}
	res, err := w.wait(r.Context(), resp.WorkflowID)
	switch {
	case errors.Is(err, errNoWorkflow):
		resp.Note = "no character was called (mention one with @Name)"
	case err != nil:
		http.Error(rw, "workflow "+resp.WorkflowID+": "+err.Error(), http.StatusBadGateway)
		return
	}
	posts := map[string]discordtest.WebhookPost{}
	for _, p := range w.sim.WebhookPosts() {
		posts[p.MessageID] = p
	}
	for _, reply := range res.Replies {
		for _, id := range reply.MessageIDs {
			p := posts[id]
			resp.Replies = append(resp.Replies, SaidReply{Username: p.Username, MessageID: id, Content: p.Content})
		}
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(resp)
}

var errNoWorkflow = errors.New("no workflow started")

// wait waits for the workflow of a message to start (the gateway filters first) and end.
func (w *devWorld) wait(ctx context.Context, id string) (workflows.ConversationResult, error) {
	var res workflows.ConversationResult
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := w.tc.DescribeWorkflowExecution(ctx, id, "")
		var nf *serviceerror.NotFound
		if err == nil {
			break
		}
		if !errors.As(err, &nf) {
			return res, err
		}
		if time.Now().After(deadline) {
			return res, errNoWorkflow
		}
		time.Sleep(25 * time.Millisecond)
	}
	err := w.tc.GetWorkflow(ctx, id, "").Get(ctx, &res)
	return res, err
}
