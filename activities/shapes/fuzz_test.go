package shapes

import (
	"os"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary bytes as a config and as a memories file. Load must never
// panic, whatever the files hold.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{
		"testdata/folder/lilith-tzel-shani/lilith-tzel-shani.json",
		"testdata/folder/lilith-tzel-shani/lilith-tzel-shani_memories.json",
		"testdata/envelope/cold-kerach-batuach-export.json",
		"testdata/memories/MyBot_20260215_110000.json",
		"testdata/oldzip/cold/memories.json",
	} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Load(fstest.MapFS{"s/s.json": {Data: data}})
		Load(fstest.MapFS{"s/s.json": {Data: []byte(`{"name":"S","jailbreak":"x"}`)}, "s/s_memories.json": {Data: data}})
	})
}
