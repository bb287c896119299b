package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"

	"github.com/tzurot/tzurot/store/keyring"
)

// MaxRequestBytes bounds a codec request body. The UI decodes one history page at a time;
// Temporal caps a single payload at 2 MiB by default.
const MaxRequestBytes = 16 << 20

// NewCodecServer serves Temporal's remote codec protocol (POST /{namespace}/encode and
// /{namespace}/decode, and /encode, /decode for clients that send the namespace in
// X-Namespace) for the Temporal UI and CLI, so an operator can read payloads the workers
// sealed.
//
// Every request except a CORS preflight must carry "Authorization: Bearer <authToken>"
// (compared in constant time); anything else gets 401. An empty authToken refuses every
// request: the server never runs open. allowedOrigins are the Temporal UI origins
// (e.g. "http://localhost:8233") whose browsers may call it, with credentials.
func NewCodecServer(kr *keyring.Keyring, authToken string, allowedOrigins []string) http.Handler {
	codec := converter.NewPayloadCodecHTTPHandler(NewCodec(kr))
	mux := http.NewServeMux()
	for _, p := range []string{"/encode", "/decode", "/{namespace}/encode", "/{namespace}/decode"} {
		mux.Handle("POST "+p, codec)
	}
	s := &server{next: mux}
	if authToken != "" {
		sum := sha256.Sum256([]byte(authToken))
		s.tokenSum = sum[:]
	}
	for _, o := range allowedOrigins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			s.origins = append(s.origins, strings.ToLower(o))
		}
	}
	return s
}

type server struct {
	next     http.Handler
	tokenSum []byte // SHA-256 of the token; nil refuses everyone
	origins  []string
	loopback bool // accept requests from this machine without a token (dev only)
}

// NewLoopbackCodecServer is the codec server `tzurot dev` runs: no token, but it answers
// only requests from this machine's loopback addresses. The Temporal UI sends a token
// only with OIDC sign-in, which a local dev UI does not have; on one's own machine the
// master key is already at hand, so this grants nothing new. Never expose it.
func NewLoopbackCodecServer(kr *keyring.Keyring, allowedOrigins []string) http.Handler {
	s := NewCodecServer(kr, "", allowedOrigins).(*server)
	s.loopback = true
	return s
}

// CORS headers the Temporal UI needs: it sends Authorization and Authorization-Extras
// (with passAccessToken and a signed-in user), X-Namespace and a JSON body.
const (
	allowHeaders = "Authorization, Authorization-Extras, Content-Type, X-Namespace"
	allowMethods = "POST, OPTIONS"
)

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	origin := r.Header.Get("Origin")
	allowed := origin != "" && slices.Contains(s.origins, strings.ToLower(origin))
	if origin != "" {
		h.Add("Vary", "Origin")
	}
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if !allowed {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		h.Set("Access-Control-Allow-Methods", allowMethods)
		h.Set("Access-Control-Allow-Headers", allowHeaders)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !s.authorized(r.Header.Get("Authorization")) && !(s.loopback && fromLoopback(r)) {
		h.Set("WWW-Authenticate", `Bearer realm="tzurot-codec"`)
		http.Error(w, "unauthorized: send Authorization: Bearer <codec token>", http.StatusUnauthorized)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	s.next.ServeHTTP(w, r)
}

// authorized compares SHA-256 digests in constant time, so neither the token's bytes nor
// its length leak through timing.
func (s *server) authorized(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || s.tokenSum == nil {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum) == 1
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
