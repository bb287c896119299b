package cards

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/base64"
	"flag"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "regenerate the binary fixtures in testdata/ from the JSON ones")

// TestUpdateFixtures writes the PNG and CHARX fixtures. The JSON fixtures are written by
// hand from the published specs; everything binary is built from them here, so a reviewer
// can see exactly what each file holds. Run: go test ./activities/cards -run TestUpdateFixtures -update
func TestUpdateFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate the binary fixtures")
	}
	v2, v3, book := readFixture(t, "v2.json"), readFixture(t, "v3.json"), readFixture(t, "book.json")
	img := testImage(t, 64, 64, 1)

	// A card carrying both chunks with different content: the V3 one must win.
	oldV2 := bytes.Replace(bytes.Replace(v3, []byte(`"chara_card_v3"`), []byte(`"chara_card_v2"`), 1),
		[]byte("night-owl librarian"), []byte("OLD V2 TEXT"), 1)
	both := pngWith(t, img, text("chara", b64(oldV2)), text("ccv3", b64(v3)))
	write(t, "both.png", both)

	// Only chara, among unrelated text chunks of all three kinds.
	write(t, "chara_only.png", pngWith(t, img,
		text("Title", "Seraphina"), text("Author", "forest_writer"),
		ztxt("Description", strings.Repeat("A forest guardian. ", 40)),
		itxt("Comment", "コメント: not a card", false),
		text("chara", b64(v2))))

	// A relabelled V2 card (spec says v3, no V3-only fields) in a compressed iTXt ccv3.
	relabelled := bytes.Replace(book, []byte(`"chara_card_v2"`), []byte(`"chara_card_v3"`), 1)
	write(t, "itxt.png", pngWith(t, img, itxt("ccv3", b64(relabelled), true)))

	write(t, "card.charx", zipOf(t, map[string][]byte{
		"card.json":                        v3,
		"assets/icon/images/main.png":      testImage(t, 32, 32, 2),
		"assets/emotion/images/happy.png":  testImage(t, 16, 16, 3),
		"x_risu_module.json":               []byte(`{"app":"specific"}`),
		"assets/other/other/readme.txt":    []byte("an app-specific file"),
		"assets/background/images/bg.webp": []byte("RIFF....WEBP"),
	}))
	write(t, "large.png", largeCard(t))

	// Broken and plain files.
	write(t, "truncated.png", both[:len(both)*6/10])
	write(t, "bad_base64.png", pngWith(t, img, text("ccv3", "%%% this is not base64 %%%")))
	write(t, "bad_json.png", pngWith(t, img, text("chara", b64([]byte(`{"spec":"chara_card_v2","data":{"name":"Broken",`)))))
	write(t, "plain.png", pngWith(t, img, text("Software", "a paint program")))
	write(t, "bomb.charx", zipOf(t, map[string][]byte{
		"card.json":                     v3,
		"assets/other/other/zeros.bin":  make([]byte, 30<<20),
		"assets/other/other/readme.txt": []byte("30 MB of zeros compress to a few KB"),
	}))
	write(t, "liar.charx", lyingZip(t))
}

// largeCard is the benchmark fixture: a 480×450 noise image (noise does not compress, so
// the file is as big as real art) carrying ~20 KB of card JSON.
func largeCard(t *testing.T) []byte {
	c, err := Parse(readFixture(t, "book.json"), "book.json")
	if err != nil {
		t.Fatal(err)
	}
	para := "Captain Vex grew up on the docks of Lowhaven, where airships are patched with sailcloth and prayer. "
	c.Description = strings.Repeat(para, 90)
	for i := 0; i < 15; i++ {
		c.CharacterBook.Entries = append(c.CharacterBook.Entries, BookEntry{
			Keys:    []string{fmt.Sprintf("island %d", i)},
			Content: strings.Repeat(fmt.Sprintf("Floating island %d drifts on the storm currents. ", i), 10),
		})
	}
	out, err := ExportPNG(c, noiseImage(t, 460, 432))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := ExportJSON(c)
	t.Logf("large.png: %d bytes, card JSON %d bytes", len(out), len(js))
	return out
}

// lyingZip's card.json claims 64 bytes but inflates to 30 MB.
func lyingZip(t *testing.T) []byte {
	body := []byte(`{"spec":"chara_card_v3","data":{"name":"Liar","description":"` + strings.Repeat(" ", 30<<20) + `"}}`)
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(body)
	fw.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "card.json", Method: zip.Deflate, Modified: fixedTime,
		CRC32: crc32.ChecksumIEEE(body[:64]), CompressedSize64: uint64(comp.Len()), UncompressedSize64: 64,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	return out.Bytes()
}

var fixedTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func zipOf(t *testing.T, files map[string][]byte) []byte {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, name := range sortedKeys(files) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: fixedTime})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// textSpec is one text chunk to add to a fixture PNG.
type textSpec struct{ typ, data string }

func text(key, value string) textSpec { return textSpec{"tEXt", key + "\x00" + value} }

func ztxt(key, value string) textSpec { return textSpec{"zTXt", key + "\x00\x00" + zlibOf(value)} }

func itxt(key, value string, compress bool) textSpec {
	if compress {
		return textSpec{"iTXt", key + "\x00\x01\x00en\x00\x00" + zlibOf(value)}
	}
	return textSpec{"iTXt", key + "\x00\x00\x00ja\x00\x00" + value}
}

func zlibOf(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// pngWith inserts the text chunks before IEND.
func pngWith(t *testing.T, img []byte, texts ...textSpec) []byte {
	chunks, err := readChunks(img, "PNG")
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte{}, pngSignature...)
	for _, c := range chunks {
		if c.typ == "IEND" {
			for _, tx := range texts {
				out = appendChunk(out, tx.typ, []byte(tx.data))
			}
		}
		out = append(out, c.raw...)
	}
	return out
}

func testImage(t *testing.T, w, h int, seed byte) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.NRGBA{byte(x * 4), byte(y * 4), seed * 60, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func noiseImage(t *testing.T, w, h int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(r.Uint32())
		if i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
