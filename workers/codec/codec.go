// Package codec encrypts every Temporal payload Tzurot writes (workflow and activity
// inputs, results, queries, memos), so the Temporal server and its database hold no
// message text, card or key handle in clear. Operators read payloads in the Temporal UI
// through `tzurot codec-server` (NewCodecServer), which decodes for authorised callers.
//
// A payload is sealed whole (data and metadata, as protobuf) with AES-256-GCM under a key
// derived from the master key (keyring.DeriveKey(KeyInfo)), and replaced by one with the
// metadata encoding=binary/encrypted and encryption-key-id=<master key version>. Decode
// opens payloads sealed under any version the keyring still holds (the current key and
// APP_MASTER_KEY_PREVIOUS), and passes payloads it did not encrypt through unchanged, so
// histories written before encryption was turned on stay readable.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/tzurot/tzurot/store/keyring"
)

const (
	// KeyInfo names the codec's key among those derived from the master key. Changing it
	// makes every sealed history unreadable: bump the suffix only with a migration plan.
	KeyInfo = "temporal-payload-codec/v1"
	// EncodingEncrypted is the metadata "encoding" of a sealed payload.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID is the metadata key naming the master key version that sealed it.
	MetadataKeyID = "encryption-key-id"
)

const nonceSize = 12

// Codec is the encrypting converter.PayloadCodec. It is safe for concurrent use.
type Codec struct {
	current string // key id new payloads are sealed under
	aeads   map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// NewCodec derives the codec's key from every master key version kr holds: it seals
// under the current one and opens what any of them sealed.
func NewCodec(kr *keyring.Keyring) *Codec {
	c := &Codec{current: strconv.Itoa(kr.CurrentVersion()), aeads: map[string]cipher.AEAD{}}
	for _, v := range kr.Versions() {
		key, err := kr.DeriveKeyFor(v, KeyInfo)
		if err == nil {
			var block cipher.Block
			if block, err = aes.NewCipher(key); err == nil {
				c.aeads[strconv.Itoa(v)], err = cipher.NewGCM(block)
			}
		}
		if err != nil {
			// Unreachable: Versions lists what DeriveKeyFor holds, which gives 32 bytes.
			panic(fmt.Sprintf("codec: key version %d: %v", v, err))
		}
	}
	return c
}

// NewDataConverter is the SDK's default data converter with every payload sealed by
// NewCodec(kr). Clients and workers set it as client.Options.DataConverter; every
// process that reads the same histories needs a keyring holding the same keys.
func NewDataConverter(kr *keyring.Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), NewCodec(kr))
}

// String names the key ids; the keys stay out of logs.
func (c *Codec) String() string {
	return fmt.Sprintf("codec.Codec{Current: %s, Keys: %d}", c.current, len(c.aeads))
}

// additionalData binds a sealed payload to its key id, so the metadata cannot be edited
// to point at another key without failing authentication.
func additionalData(keyID string) []byte { return []byte(KeyInfo + "\x00" + keyID) }

// Encode seals every payload not sealed already. The input is not modified.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	aead := c.aeads[c.current]
	for i, p := range payloads {
		if isEncrypted(p) {
			out[i] = p // already sealed (e.g. a payload passed through): never twice
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("payload codec: marshal payload %d: %w", i, err)
		}
		data := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
		if _, err := io.ReadFull(rand.Reader, data); err != nil {
			return payloads, fmt.Errorf("payload codec: read random nonce: %w", err)
		}
		data = aead.Seal(data, data[:nonceSize], plain, additionalData(c.current))
		clear(plain)
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.current),
			},
			Data: data,
		}
	}
	return out, nil
}

// ErrUnknownKey: a payload names a key id the keyring does not hold.
var ErrUnknownKey = errors.New("payload sealed under a master key this process does not hold")

// Decode opens sealed payloads and returns the others unchanged. The input is not
// modified. Errors name the payload's index and key id, never its content.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !isEncrypted(p) {
			out[i] = p
			continue
		}
		keyID := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[keyID]
		if !ok {
			return payloads, fmt.Errorf("payload codec: payload %d: %w (key id %q; add that key to %s)", i, ErrUnknownKey, keyID, keyring.EnvPrevious)
		}
		data := p.GetData()
		if len(data) < nonceSize+aead.Overhead() {
			return payloads, fmt.Errorf("payload codec: payload %d: sealed data is %d bytes, too short", i, len(data))
		}
		plain, err := aead.Open(nil, data[:nonceSize], data[nonceSize:], additionalData(keyID))
		if err != nil {
			return payloads, fmt.Errorf("payload codec: payload %d under key id %s does not authenticate (tampered or corrupted)", i, keyID)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return payloads, fmt.Errorf("payload codec: payload %d: unmarshal: %w", i, err)
		}
		out[i] = &dec
	}
	return out, nil
}

func isEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == EncodingEncrypted
}
