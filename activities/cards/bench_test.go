package cards

import "testing"

// The largest fixture: a 661 KB PNG carrying 19 KB of card JSON twice (ccv3 and chara).
func BenchmarkParse(b *testing.B) {
	data := readFixture(b, "large.png")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, "large.png"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExportPNG(b *testing.B) {
	data := readFixture(b, "large.png")
	c, err := Parse(data, "large.png")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ExportPNG(c, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExportPNGPlaceholder(b *testing.B) {
	c, err := Parse(readFixture(b, "v3.json"), "v3.json")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ExportPNG(c, nil); err != nil {
			b.Fatal(err)
		}
	}
}
