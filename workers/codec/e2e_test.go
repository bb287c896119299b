package codec_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/tzurot/tzurot/workers/codec"
	"github.com/tzurot/tzurot/workers/devserver"
)

// TestHistoryOnARealServerIsSealed runs a workflow on the embedded Temporal server with
// the codec, then reads its history as the server stores it: no user text in clear, and
// the codec server (as the UI would call it) turns it back into the text.
func TestHistoryOnARealServerIsSealed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, devserver.Options{UIPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	quiet := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	kr, key := ring(t, 1)

	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddr, Namespace: srv.Namespace, DataConverter: codec.NewDataConverter(kr), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const queue = "codec-e2e"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(replyWorkflow)
	w.RegisterActivity(replyActivity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "msg-codec-e2e", TaskQueue: queue}, replyWorkflow, turn{Text: secretText, Tokens: 1})
	if err != nil {
		t.Fatal(err)
	}
	var out turn
	if err := run.Get(ctx, &out); err != nil || out.Text != "Lilith heard: "+secretText {
		t.Fatalf("result %+v, %v", out, err)
	}

	// A client without the codec (the server, its database, an operator without the key).
	plain, err := client.Dial(client.Options{HostPort: srv.FrontendAddr, Namespace: srv.Namespace, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, &out); err == nil {
		t.Fatal("a client without the key decoded the result")
	}
	it := plain.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events, sealed := 0, 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, clear := range []string{"hunter2", "Lilith heard", "cellar door"} {
			if bytes.Contains(b, []byte(clear)) {
				t.Fatalf("event %d (%s) holds %q in clear", ev.GetEventId(), ev.GetEventType(), clear)
			}
		}
		sealed += bytes.Count(b, []byte(codec.EncodingEncrypted))
		if attrs := ev.GetWorkflowExecutionStartedEventAttributes(); attrs != nil {
			// The operator's view: the UI posts the payloads to the codec server.
			cs := httptest.NewServer(codec.NewCodecServer(kr, codecToken, nil))
			remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
				Endpoint: cs.URL + "/" + srv.Namespace,
				ModifyRequest: func(r *http.Request) error {
					r.Header.Set("Authorization", "Bearer "+codecToken)
					return nil
				},
			})
			ps := attrs.GetInput().GetPayloads()
			for _, p := range ps {
				assertSealed(t, p, key.Version, "hunter2")
			}
			opened, err := remote.Decode(ps)
			cs.Close()
			if err != nil {
				t.Fatal(err)
			}
			var in turn
			if err := converter.GetDefaultDataConverter().FromPayload(opened[0], &in); err != nil || in.Text != secretText {
				t.Fatalf("codec server decoded the input to %+v, %v", in, err)
			}
		}
	}
	// Started (input), activity scheduled (input), completed (result), workflow completed (result).
	if sealed < 4 {
		t.Fatalf("%d sealed payloads in %d events, want at least 4", sealed, events)
	}
}
