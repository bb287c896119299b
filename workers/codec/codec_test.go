package codec_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tzurot/tzurot/store/keyring"
	"github.com/tzurot/tzurot/workers/codec"
)

// secretText stands for what must never reach Temporal in clear: message text, cards,
// anything a user wrote.
const secretText = "the cellar door code is 7391-hunter2"

func ring(t testing.TB, fill byte, older ...keyring.Key) (*keyring.Keyring, keyring.Key) {
	t.Helper()
	k, err := keyring.NewKey(bytes.Repeat([]byte{fill}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(k, older...)
	if err != nil {
		t.Fatal(err)
	}
	return kr, k
}

type turn struct {
	Text    string
	Authors []string
	Tokens  int
}

// assertSealed checks a payload is encrypted under keyVersion and that neither its bytes
// nor its JSON form (what tctl or an unconfigured UI would show) contain needle.
func assertSealed(t *testing.T, p *commonpb.Payload, keyVersion int, needle string) {
	t.Helper()
	if enc := string(p.GetMetadata()[converter.MetadataEncoding]); enc != codec.EncodingEncrypted {
		t.Fatalf("encoding %q, want %q", enc, codec.EncodingEncrypted)
	}
	if id := string(p.GetMetadata()[codec.MetadataKeyID]); id != strconv.Itoa(keyVersion) {
		t.Fatalf("%s = %q, want %d", codec.MetadataKeyID, id, keyVersion)
	}
	if len(p.GetMetadata()) != 2 {
		t.Fatalf("metadata %v: the original metadata (e.g. message type) must be sealed too", p.GetMetadata())
	}
	if needle == "" {
		return
	}
	wire, _ := proto.Marshal(p)
	js, _ := protojson.Marshal(p)
	for _, b := range [][]byte{p.GetData(), wire, js} {
		if bytes.Contains(b, []byte(needle)) {
			t.Fatalf("sealed payload contains %q in clear", needle)
		}
	}
}

func TestDataConverterRoundTrip(t *testing.T) {
	kr, key := ring(t, 1)
	dc := codec.NewDataConverter(kr)
	tests := []struct {
		name   string
		value  any
		into   func() any // a pointer to decode into
		needle string     // must not appear in the sealed bytes
	}{
		{"string", secretText, func() any { return new(string) }, "hunter2"},
		{"struct", turn{Text: secretText, Authors: []string{"alice"}, Tokens: 12}, func() any { return new(turn) }, "hunter2"},
		{"bytes", []byte(secretText), func() any { return new([]byte) }, "hunter2"},
		{"int", 424242, func() any { return new(int) }, "424242"},
		{"map", map[string]string{"apiKey": "sk-or-v1-deadbeefcafe"}, func() any { return new(map[string]string) }, "deadbeefcafe"},
		{"nil", nil, func() any { return new(any) }, ""},
		{"empty string", "", func() any { return new(string) }, ""},
		{"protobuf message", &commonpb.WorkflowExecution{WorkflowId: "msg-" + secretText}, func() any { return new(commonpb.WorkflowExecution) }, "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := dc.ToPayload(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			assertSealed(t, p, key.Version, tt.needle)
			got := tt.into()
			if err := dc.FromPayload(p, got); err != nil {
				t.Fatal(err)
			}
			v := reflect.ValueOf(got).Elem().Interface()
			if m, ok := tt.value.(proto.Message); ok {
				if !proto.Equal(m, got.(proto.Message)) {
					t.Fatalf("decoded %v, want %v", got, m)
				}
				return
			}
			if !reflect.DeepEqual(v, tt.value) && !(tt.value == nil && v == nil) {
				t.Fatalf("decoded %#v, want %#v", v, tt.value)
			}
		})
	}

	// ToPayloads (several arguments at once) seals each one.
	ps, err := dc.ToPayloads(secretText, turn{Text: secretText}, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.GetPayloads() {
		assertSealed(t, p, key.Version, "hunter2")
	}
	var s string
	var tr turn
	var n int
	if err := dc.FromPayloads(ps, &s, &tr, &n); err != nil || s != secretText || tr.Text != secretText || n != 7 {
		t.Fatalf("FromPayloads = %q, %+v, %d, %v", s, tr, n, err)
	}
}

func TestEncodeUsesFreshNoncesAndKeepsInput(t *testing.T) {
	kr, _ := ring(t, 1)
	c := codec.NewCodec(kr)
	plain, _ := converter.GetDefaultDataConverter().ToPayload(secretText)
	before := proto.Clone(plain)
	a, err := c.Encode([]*commonpb.Payload{plain, plain})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[0].GetData(), a[1].GetData()) {
		t.Fatal("the same payload sealed twice gave the same bytes: nonce reused")
	}
	if !proto.Equal(plain, before) {
		t.Fatal("Encode modified its input")
	}
}

func TestEncodeDoesNotEncryptTwice(t *testing.T) {
	kr, _ := ring(t, 1)
	c := codec.NewCodec(kr)
	plain, _ := converter.GetDefaultDataConverter().ToPayload(secretText)
	once, err := c.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	twice, err := c.Encode(once)
	if err != nil {
		t.Fatal(err)
	}
	if twice[0] != once[0] {
		t.Fatal("an encrypted payload was encrypted again")
	}
	// A codec chained twice (a misconfiguration) still decodes in one pass.
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c, c)
	p, err := dc.ToPayload(secretText)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := dc.FromPayload(p, &s); err != nil || s != secretText {
		t.Fatalf("FromPayload = %q, %v", s, err)
	}
}

// TestDecodePassesPlainPayloadsThrough: histories written before encryption was turned on
// stay readable.
func TestDecodePassesPlainPayloadsThrough(t *testing.T) {
	kr, _ := ring(t, 1)
	plainDC := converter.GetDefaultDataConverter()
	var payloads []*commonpb.Payload
	for _, v := range []any{secretText, turn{Text: "old"}, nil, []byte{1, 2}} {
		p, err := plainDC.ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, p)
	}
	payloads = append(payloads, &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("binary/zlib")}, Data: []byte{9}})
	got, err := codec.NewCodec(kr).Decode(payloads)
	if err != nil {
		t.Fatal(err)
	}
	for i := range payloads {
		if got[i] != payloads[i] {
			t.Fatalf("payload %d changed on Decode", i)
		}
	}
	var s string
	if err := codec.NewDataConverter(kr).FromPayload(payloads[0], &s); err != nil || s != secretText {
		t.Fatalf("FromPayload(plain) = %q, %v", s, err)
	}
}

func TestDecodeRefusesTampering(t *testing.T) {
	_, oldKey := ring(t, 1)
	kr, key := ring(t, 2, oldKey)
	c := codec.NewCodec(kr)
	plain, _ := converter.GetDefaultDataConverter().ToPayload(secretText)
	sealed, err := c.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	good := sealed[0]
	edit := func(f func(p *commonpb.Payload)) *commonpb.Payload {
		p := proto.Clone(good).(*commonpb.Payload)
		f(p)
		return p
	}
	tests := []struct {
		name    string
		p       *commonpb.Payload
		wantErr string
	}{
		{"nonce bit flipped", edit(func(p *commonpb.Payload) { p.Data[0] ^= 1 }), "does not authenticate"},
		{"ciphertext bit flipped", edit(func(p *commonpb.Payload) { p.Data[20] ^= 0x80 }), "does not authenticate"},
		{"tag bit flipped", edit(func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 1 }), "does not authenticate"},
		{"truncated", edit(func(p *commonpb.Payload) { p.Data = p.Data[:len(p.Data)-1] }), "does not authenticate"},
		{"too short", edit(func(p *commonpb.Payload) { p.Data = p.Data[:10] }), "too short"},
		{"key id pointed at the other known key", edit(func(p *commonpb.Payload) {
			p.Metadata[codec.MetadataKeyID] = []byte(strconv.Itoa(oldKey.Version))
		}), "does not authenticate"},
		{"unknown key id", edit(func(p *commonpb.Payload) { p.Metadata[codec.MetadataKeyID] = []byte("12345") }), keyring.EnvPrevious},
		{"no key id", edit(func(p *commonpb.Payload) { delete(p.Metadata, codec.MetadataKeyID) }), "key id \"\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Decode([]*commonpb.Payload{tt.p})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Decode error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error reveals the payload: %v", err)
			}
			var s string
			if err := codec.NewDataConverter(kr).FromPayload(tt.p, &s); err == nil {
				t.Fatalf("FromPayload accepted it as %q", s)
			}
		})
	}
	if got, err := c.Decode([]*commonpb.Payload{good}); err != nil || !proto.Equal(got[0], plain) {
		t.Fatalf("the untouched payload no longer decodes: %v (key %d)", err, key.Version)
	}
}

func TestOldPayloadsDecodeAfterRotation(t *testing.T) {
	before, oldKey := ring(t, 1)
	sealedBefore, err := codec.NewDataConverter(before).ToPayload(turn{Text: secretText})
	if err != nil {
		t.Fatal(err)
	}
	after, newKey := ring(t, 2, oldKey)
	dc := codec.NewDataConverter(after)
	var got turn
	if err := dc.FromPayload(sealedBefore, &got); err != nil || got.Text != secretText {
		t.Fatalf("after rotation, an old payload decodes to %+v, %v", got, err)
	}
	sealedAfter, err := dc.ToPayload(turn{Text: secretText})
	if err != nil {
		t.Fatal(err)
	}
	assertSealed(t, sealedAfter, newKey.Version, "hunter2")

	// Once the old key is dropped, old payloads fail with an error that says what to do.
	onlyNew, _ := ring(t, 2)
	_, err = codec.NewCodec(onlyNew).Decode([]*commonpb.Payload{sealedBefore})
	if !errors.Is(err, codec.ErrUnknownKey) || !strings.Contains(err.Error(), strconv.Itoa(oldKey.Version)) {
		t.Fatalf("Decode without the old key = %v, want ErrUnknownKey naming version %d", err, oldKey.Version)
	}
	// And the new payloads never needed it.
	if err := codec.NewDataConverter(onlyNew).FromPayload(sealedAfter, &got); err != nil {
		t.Fatal(err)
	}
}

func TestCodecFormattingShowsNoKey(t *testing.T) {
	kr, key := ring(t, 1)
	c := codec.NewCodec(kr)
	derived := kr.DeriveKey(codec.KeyInfo)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		out := fmt.Sprintf(verb, c)
		if strings.Contains(out, hex.EncodeToString(derived[:8])) || strings.Contains(out, string(derived[:8])) ||
			strings.Contains(out, fmt.Sprint(derived[:4])[1:]) {
			t.Fatalf("%s renders the codec key: %s", verb, out)
		}
	}
	if s := c.String(); !strings.Contains(s, strconv.Itoa(key.Version)) {
		t.Fatalf("String() = %q, want the key id", s)
	}
}

func benchPayload(b *testing.B) *commonpb.Payload {
	p, err := converter.GetDefaultDataConverter().ToPayload(turn{Text: strings.Repeat("a", 1024)})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkEncode1KiB(b *testing.B) {
	kr, _ := ring(b, 1)
	c, ps := codec.NewCodec(kr), []*commonpb.Payload{benchPayload(b)}
	for b.Loop() {
		if _, err := c.Encode(ps); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode1KiB(b *testing.B) {
	kr, _ := ring(b, 1)
	c := codec.NewCodec(kr)
	ps, err := c.Encode([]*commonpb.Payload{benchPayload(b)})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Decode(ps); err != nil {
			b.Fatal(err)
		}
	}
}
