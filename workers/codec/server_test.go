package codec_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tzurot/tzurot/workers/codec"
)

const (
	codecToken = "codec-token-0f3a9c"
	uiOrigin   = "http://localhost:8233"
)

// sealedBody is a decode request body: payloads the workers sealed.
func sealedBody(t *testing.T, c *codec.Codec, values ...any) []byte {
	t.Helper()
	var ps []*commonpb.Payload
	for _, v := range values {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	sealed, err := c.Encode(ps)
	if err != nil {
		t.Fatal(err)
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCodecServerRequests(t *testing.T) {
	kr, _ := ring(t, 1)
	srv := httptest.NewServer(codec.NewCodecServer(kr, codecToken, []string{uiOrigin + "/"}))
	defer srv.Close()
	body := sealedBody(t, codec.NewCodec(kr), secretText)

	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		body       []byte
		wantStatus int
		wantClear  bool // the response carries the decoded text
	}{
		{"no token", "POST", "/default/decode", nil, body, 401, false},
		{"wrong token", "POST", "/default/decode", map[string]string{"Authorization": "Bearer nope"}, body, 401, false},
		{"token prefix", "POST", "/default/decode", map[string]string{"Authorization": "Bearer " + codecToken[:5]}, body, 401, false},
		{"token with a suffix", "POST", "/default/decode", map[string]string{"Authorization": "Bearer " + codecToken + "x"}, body, 401, false},
		{"basic scheme", "POST", "/default/decode", map[string]string{"Authorization": "Basic " + codecToken}, body, 401, false},
		{"bare token", "POST", "/default/decode", map[string]string{"Authorization": codecToken}, body, 401, false},
		{"right token", "POST", "/default/decode", map[string]string{"Authorization": "Bearer " + codecToken}, body, 200, true},
		{"scheme in lower case", "POST", "/default/decode", map[string]string{"Authorization": "bearer " + codecToken}, body, 200, true},
		{"no namespace in path (CLI)", "POST", "/decode", map[string]string{"Authorization": "Bearer " + codecToken, "X-Namespace": "default"}, body, 200, true},
		{"UI query string", "POST", "/default/decode?preserveStorageRefs=true", map[string]string{"Authorization": "Bearer " + codecToken}, body, 200, true},
		{"GET", "GET", "/default/decode", map[string]string{"Authorization": "Bearer " + codecToken}, nil, 405, false},
		{"unknown path", "POST", "/default/other", map[string]string{"Authorization": "Bearer " + codecToken}, body, 404, false},
		{"not JSON", "POST", "/default/decode", map[string]string{"Authorization": "Bearer " + codecToken}, []byte("{"), 400, false},
		{"unauthorised preflight-less OPTIONS", "OPTIONS", "/default/decode", nil, nil, 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, got, tt.wantStatus)
			}
			if clear := bytes.Contains(got, []byte(jsonB64(secretText))); clear != tt.wantClear {
				t.Fatalf("response carries the decoded text: %v, want %v (%s)", clear, tt.wantClear, got)
			}
			if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

// jsonB64 is how a decoded string payload appears in the codec's JSON response: the
// payload data ("\"text\"") base64-encoded.
func jsonB64(s string) string {
	b, _ := json.Marshal(s)
	enc, _ := json.Marshal(b)
	return strings.Trim(string(enc), `"`)
}

func TestCodecServerWithoutTokenRefusesEveryone(t *testing.T) {
	kr, _ := ring(t, 1)
	srv := httptest.NewServer(codec.NewCodecServer(kr, "", []string{uiOrigin}))
	defer srv.Close()
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer  "} {
		req, _ := http.NewRequest("POST", srv.URL+"/default/decode", bytes.NewReader(sealedBody(t, codec.NewCodec(kr), "x")))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}
}

func TestCodecServerCORS(t *testing.T) {
	kr, _ := ring(t, 1)
	srv := httptest.NewServer(codec.NewCodecServer(kr, codecToken, []string{uiOrigin, "https://temporal.example.org"}))
	defer srv.Close()
	tests := []struct {
		name        string
		method      string
		origin      string
		auth        bool
		wantStatus  int
		wantAllowed bool
	}{
		{"preflight from the UI", "OPTIONS", uiOrigin, false, 204, true},
		{"preflight from the second UI", "OPTIONS", "https://temporal.example.org", false, 204, true},
		{"preflight from elsewhere", "OPTIONS", "https://evil.example", false, 403, false},
		{"request from the UI", "POST", uiOrigin, true, 200, true},
		{"request from the UI without token", "POST", uiOrigin, false, 401, true}, // the UI can read the 401
		{"request from elsewhere with token", "POST", "https://evil.example", true, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+"/default/decode", bytes.NewReader(sealedBody(t, codec.NewCodec(kr), "x")))
			req.Header.Set("Origin", tt.origin)
			if tt.method == "OPTIONS" {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
			}
			if tt.auth {
				req.Header.Set("Authorization", "Bearer "+codecToken)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := h.Get("Access-Control-Allow-Origin"); (got == tt.origin) != tt.wantAllowed || (got != "" && got != tt.origin) {
				t.Fatalf("Access-Control-Allow-Origin %q for origin %s, want allowed=%v", got, tt.origin, tt.wantAllowed)
			}
			if !strings.Contains(h.Get("Vary"), "Origin") {
				t.Fatal("responses that depend on Origin must say Vary: Origin")
			}
			if !tt.wantAllowed {
				return
			}
			if h.Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatal("no Access-Control-Allow-Credentials: true")
			}
			if tt.method == "OPTIONS" {
				allow := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
				for _, want := range []string{"authorization", "x-namespace", "content-type"} {
					if !strings.Contains(allow, want) {
						t.Errorf("Access-Control-Allow-Headers %q lacks %s", allow, want)
					}
				}
				if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
					t.Errorf("Access-Control-Allow-Methods %q lacks POST", h.Get("Access-Control-Allow-Methods"))
				}
			}
		})
	}
}

// TestCodecServerWithSDKRemoteCodec drives the server with the SDK's own remote codec
// client (what the Temporal CLI's --codec-endpoint uses): the workers' payloads decode,
// and what the server encodes, the workers read.
func TestCodecServerWithSDKRemoteCodec(t *testing.T) {
	kr, key := ring(t, 1)
	srv := httptest.NewServer(codec.NewCodecServer(kr, codecToken, nil))
	defer srv.Close()
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + "/default",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+codecToken)
			return nil
		},
	})
	local := codec.NewCodec(kr)
	plainDC := converter.GetDefaultDataConverter()
	p, _ := plainDC.ToPayload(turn{Text: secretText, Tokens: 3})

	sealed, err := local.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	opened, err := remote.Decode(sealed)
	if err != nil {
		t.Fatal(err)
	}
	var got turn
	if err := plainDC.FromPayload(opened[0], &got); err != nil || got.Text != secretText || got.Tokens != 3 {
		t.Fatalf("decoded through the server: %+v, %v", got, err)
	}

	sealedRemotely, err := remote.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	assertSealed(t, sealedRemotely[0], key.Version, "hunter2")
	back, err := local.Decode(sealedRemotely)
	if err != nil {
		t.Fatal(err)
	}
	got = turn{}
	if err := plainDC.FromPayload(back[0], &got); err != nil || got.Text != secretText {
		t.Fatalf("server-encoded payload read locally: %+v, %v", got, err)
	}

	// Without the token the SDK client gets the 401 as an error, and no payload.
	anon := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{Endpoint: srv.URL + "/default"})
	if _, err := anon.Decode(sealed); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("anonymous decode: %v, want Unauthorized", err)
	}
}

func TestCodecServerBoundsTheBody(t *testing.T) {
	kr, _ := ring(t, 1)
	srv := httptest.NewServer(codec.NewCodecServer(kr, codecToken, nil))
	defer srv.Close()
	big := bytes.Repeat([]byte(" "), codec.MaxRequestBytes+1)
	req, _ := http.NewRequest("POST", srv.URL+"/default/decode", bytes.NewReader(big))
	req.Header.Set("Authorization", "Bearer "+codecToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Fatalf("oversized body: status %d, want a 4xx", resp.StatusCode)
	}
}

func TestLoopbackCodecServerAnswersOnlyThisMachine(t *testing.T) {
	kr, _ := ring(t, 7)
	h := codec.NewLoopbackCodecServer(kr, []string{"http://127.0.0.1:8233"})
	body := `{"payloads":[]}`
	for _, tt := range []struct {
		remote string
		want   int
	}{{"127.0.0.1:5555", 200}, {"[::1]:5555", 200}, {"10.1.2.3:5555", 401}} {
		r := httptest.NewRequest(http.MethodPost, "/default/decode", strings.NewReader(body))
		r.RemoteAddr = tt.remote
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("from %s: %d, want %d", tt.remote, w.Code, tt.want)
		}
	}
}
