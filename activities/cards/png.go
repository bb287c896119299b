package cards

// PNG chunks are read and written with the standard library and the small walker below,
// not with a PNG-structure library. The candidate on the module proxy,
// code.superseriousbusiness.org/go-png-image-structure/v2 (the maintained fork of
// dsoprea's), pulls in seven 2020-era modules (go-exif/v3, go-logging, go-utility,
// golang/geo, yaml.v2, an old x/net) for EXIF features we never use; it silently drops
// a truncated last chunk, where we must tell the user "the PNG is truncated"; and it has
// no iTXt/zTXt decoding, so we would write the text layer ourselves anyway. The chunk
// layout itself is fixed by the PNG spec: length, type, data, CRC-32 — thirty lines.

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// chunk is one PNG chunk, slicing into the file it came from (nothing is copied).
type chunk struct {
	typ  string
	data []byte
	crc  uint32
	raw  []byte // the whole chunk: length, type, data, CRC
}

func (c chunk) crcOK() bool {
	h := crc32.NewIEEE()
	h.Write([]byte(c.typ))
	h.Write(c.data)
	return h.Sum32() == c.crc
}

// readChunks splits a PNG into chunks up to IEND. what names the file in errors ("PNG",
// "avatar PNG"). A file that ends before IEND is truncated.
func readChunks(b []byte, what string) ([]chunk, error) {
	if !bytes.HasPrefix(b, pngSignature) {
		return nil, problem("the %s is not a PNG image", what)
	}
	var out []chunk
	for rest := b[len(pngSignature):]; ; {
		if len(rest) < 12 {
			return nil, problem("the %s is truncated", what)
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-12) {
			return nil, problem("the %s is truncated", what)
		}
		size := 12 + int(n)
		c := chunk{
			typ:  string(rest[4:8]),
			data: rest[8 : 8+n],
			crc:  binary.BigEndian.Uint32(rest[8+n : size]),
			raw:  rest[:size],
		}
		if !validChunkType(c.typ) {
			return nil, problem("the %s is damaged (a chunk has an invalid name)", what)
		}
		out = append(out, c)
		if c.typ == "IEND" {
			return out, nil
		}
		rest = rest[size:]
	}
}

func validChunkType(t string) bool {
	for i := 0; i < len(t); i++ {
		if c := t[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// textChunk is a tEXt, zTXt or iTXt chunk, decoded.
type textChunk struct {
	chunkType string
	keyword   string
	text      []byte
}

// maxTextSize bounds a decompressed zTXt/iTXt chunk, so a small chunk cannot inflate into
// gigabytes.
const maxTextSize = MaxInputSize

var errNotText = errors.New("not a text chunk")

// decodeText reads a text chunk. tEXt is Latin-1 (a card chunk is base64, so ASCII);
// iTXt is UTF-8 with an optional zlib layer; zTXt is always zlib.
func decodeText(c chunk) (textChunk, error) {
	key, rest, ok := bytes.Cut(c.data, []byte{0})
	if !ok {
		return textChunk{}, errNotText
	}
	t := textChunk{chunkType: c.typ, keyword: string(key)}
	switch c.typ {
	case "tEXt":
		t.text = rest
	case "zTXt":
		if len(rest) < 1 || rest[0] != 0 {
			return t, errNotText
		}
		text, err := inflate(rest[1:])
		t.text = text
		return t, err
	case "iTXt":
		if len(rest) < 2 {
			return t, errNotText
		}
		compressed, method := rest[0], rest[1]
		parts := bytes.SplitN(rest[2:], []byte{0}, 3) // language, translated keyword, text
		if len(parts) != 3 {
			return t, errNotText
		}
		t.text = parts[2]
		if compressed == 1 {
			if method != 0 {
				return t, errNotText
			}
			text, err := inflate(parts[2])
			t.text = text
			return t, err
		}
	default:
		return t, errNotText
	}
	return t, nil
}

func inflate(b []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxTextSize+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxTextSize {
		return nil, errors.New("too large")
	}
	return out, nil
}

// cardKeywords are the text-chunk keywords that carry a card, in order of preference.
var cardKeywords = []string{"ccv3", "chara"}

func isCardKeyword(k string) bool {
	for _, ck := range cardKeywords {
		if strings.EqualFold(k, ck) {
			return true
		}
	}
	return false
}

// cardKeyword returns the keyword of a text chunk that carries a card, or "".
func cardKeyword(c chunk) string {
	switch c.typ {
	case "tEXt", "zTXt", "iTXt":
	default:
		return ""
	}
	key, _, ok := bytes.Cut(c.data, []byte{0})
	if !ok || !isCardKeyword(string(key)) {
		return ""
	}
	return strings.ToLower(string(key))
}

// appendChunk writes one chunk with its length and CRC.
func appendChunk(out []byte, typ string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

// withCardChunks returns the PNG with every card chunk removed and a tEXt chunk per
// keyword inserted before IEND, in the order given.
func withCardChunks(png []byte, chunks []chunk, texts [][2]string) []byte {
	size := len(pngSignature)
	for _, c := range chunks {
		size += len(c.raw)
	}
	for _, t := range texts {
		size += 12 + len(t[0]) + 1 + len(t[1])
	}
	out := make([]byte, 0, size)
	out = append(out, pngSignature...)
	for _, c := range chunks {
		if cardKeyword(c) != "" {
			continue
		}
		if c.typ == "IEND" {
			for _, t := range texts {
				out = appendChunk(out, "tEXt", append(append([]byte(t[0]), 0), t[1]...))
			}
		}
		out = append(out, c.raw...)
	}
	return out
}
