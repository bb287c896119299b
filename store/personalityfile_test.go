package store

import (
	"strings"
	"testing"
)

func TestSeedParses(t *testing.T) {
	ps, err := SeedPersonalities()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Slug != "lilith" || ps[1].Slug != "sage" || ps[0].ErrorMessage == "" || len(ps[0].Aliases) == 0 {
		t.Fatalf("seed = %+v", ps)
	}
}

func TestParsePersonalities(t *testing.T) {
	tests := []struct {
		name, file, data, wantErr string
		want                      int
	}{
		{"yaml list", "a.yaml", "- name: Bob\n", "", 1},
		{"yaml wrapped", "a.yml", "personalities:\n  - name: Bob\n    slug: bob\n", "", 1},
		{"json list", "a.json", `[{"name":"Bob"},{"name":"Ann Lee"}]`, "", 2},
		{"json wrapped", "a.json", `{"personalities":[{"name":"Bob"}]}`, "", 1},
		{"json unknown field", "a.json", `{"personas":[{"name":"Bob"}]}`, "not a valid personalities file", 0},
		{"empty", "a.yaml", "", "holds no personalities", 0},
		{"no name", "a.yaml", "- slug: x\n", "name is required", 0},
		{"bad slug", "a.yaml", "- name: X\n  slug: Bad Slug\n", "must be lower-case", 0},
		{"dup slug", "a.yaml", "- name: X\n- name: x\n", "appears twice", 0},
		{"bad birthday", "a.yaml", "- name: X\n  birthday: 31-12\n", "MM-DD", 0},
		{"bad avatar", "a.yaml", "- name: X\n  avatar_url: file:///etc/passwd\n", "http(s)", 0},
		{"huge field", "a.yaml", "- name: X\n  character_info: " + strings.Repeat("a", 40000) + "\n", "at most", 0},
		{"not utf8", "a.yaml", "- name: \xff\n", "not UTF-8", 0},
		{"garbage", "a.yaml", ":::\n- [", "not a valid", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePersonalities([]byte(tt.data), tt.file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("got %d, %v", len(got), err)
			}
			for _, p := range got {
				if p.Slug == "" || p.DisplayName == "" {
					t.Errorf("defaults not filled: %+v", p)
				}
			}
		})
	}
}

func FuzzParsePersonalities(f *testing.F) {
	for _, s := range []string{"- name: Bob\n", `[{"name":"x"}]`, `{"personalities":[]}`, "personalities:\n - name: A\n   birthday: 01-01\n", "\x00", "[", "{"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParsePersonalities(data, "fuzz")
		if err == nil {
			for _, p := range ps {
				if p.Validate() != nil {
					t.Fatalf("accepted an invalid card: %+v", p)
				}
			}
		}
	})
}
