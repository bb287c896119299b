package cards

import (
	"bytes"
	"encoding/base64"
	"hash/fnv"
	"image"
	"image/color"
	_ "image/gif" // avatars arrive as GIF too
	_ "image/jpeg"
	"image/png"
)

// maxAvatarPixels refuses avatars whose declared size would take gigabytes to decode.
const maxAvatarPixels = 4096 * 4096

// ExportPNG writes the card into the avatar as two tEXt chunks: `ccv3` (V3 JSON) for
// current tools and `chara` (V2 JSON) for older ones, both base64. Card chunks already in
// the avatar are replaced; every other chunk is kept byte for byte. A JPEG or GIF avatar
// is converted to PNG; with no avatar a 256×256 placeholder is drawn from the name.
func ExportPNG(c *Card, avatarPNG []byte) ([]byte, error) {
	v3, err := encodeCard(c, SpecV3)
	if err != nil {
		return nil, err
	}
	v2, err := encodeCard(c, SpecV2)
	if err != nil {
		return nil, err
	}
	img := avatarPNG
	switch {
	case len(img) == 0:
		if img, err = placeholderPNG(c.Name); err != nil {
			return nil, err
		}
	case len(img) > MaxInputSize:
		return nil, problem("the avatar is %s; at most %s", megabytes(len(img)), megabytes(MaxInputSize))
	case !bytes.HasPrefix(img, pngSignature):
		if img, err = toPNG(img); err != nil {
			return nil, err
		}
	}
	chunks, err := readChunks(img, "avatar PNG")
	if err != nil {
		return nil, err
	}
	return withCardChunks(img, chunks, [][2]string{
		{"chara", base64.StdEncoding.EncodeToString(v2)},
		{"ccv3", base64.StdEncoding.EncodeToString(v3)},
	}), nil
}

// toPNG converts a JPEG or GIF avatar.
func toPNG(b []byte) ([]byte, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, problem("the avatar must be a PNG, JPEG or GIF image")
	}
	if cfg.Width*cfg.Height > maxAvatarPixels {
		return nil, problem("the avatar is %d×%d pixels; at most 4096×4096", cfg.Width, cfg.Height)
	}
	m, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, problem("the avatar image is damaged")
	}
	var out bytes.Buffer
	if err := png.Encode(&out, m); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// placeholderPNG draws a 256×256 diagonal gradient whose colours come from the name, so
// each character gets its own and the same character always the same.
func placeholderPNG(name string) ([]byte, error) {
	h := fnv.New32a()
	h.Write([]byte(name))
	sum := h.Sum32()
	from := color.NRGBA{R: byte(sum), G: byte(sum >> 8), B: byte(sum >> 16), A: 255}
	to := color.NRGBA{R: 255 - from.G/2, G: 255 - from.B/2, B: 255 - from.R/2, A: 255}
	const size = 256
	m := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			t := (x + y) * 255 / (2*size - 2)
			i := m.PixOffset(x, y)
			m.Pix[i+0] = mix(from.R, to.R, t)
			m.Pix[i+1] = mix(from.G, to.G, t)
			m.Pix[i+2] = mix(from.B, to.B, t)
			m.Pix[i+3] = 255
		}
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&out, m); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func mix(a, b byte, t int) byte {
	return byte((int(a)*(255-t) + int(b)*t) / 255)
}
