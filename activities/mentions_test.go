package activities

import (
	"reflect"
	"testing"

	"github.com/tzurot/tzurot/store"
)

func TestMatchMentions(t *testing.T) {
	names := []store.NameEntry{
		{PersonalityID: "lilith", Name: "Lilith"},
		{PersonalityID: "lady", Name: "Lady Lilith of Night"},
		{PersonalityID: "bob", Name: "Bob"},
		{PersonalityID: "bob", Name: "bobby"},
		{PersonalityID: "lilith", Name: "lil"},            // global alias
		{PersonalityID: "bob", Name: "lil", UserID: "u1"}, // u1's personal alias wins for u1
		{PersonalityID: "bob", Name: "secret", UserID: "u2"},
	}
	tests := []struct {
		name, content, user string
		want                []string
	}{
		{"plain", "@Lilith hello", "u0", []string{"lilith"}},
		{"case", "hey @LILITH", "u0", []string{"lilith"}},
		{"possessive", "@Lilith's take?", "u0", []string{"lilith"}},
		{"smart possessive", "@Lilith\u2019s take?", "u0", []string{"lilith"}},
		{"punctuation", "@Lilith, what now?", "u0", []string{"lilith"}},
		{"markdown", "@**Lilith** hi", "u0", []string{"lilith"}},
		{"longest wins", "@Lady Lilith of Night speak", "u0", []string{"lady"}},
		{"two left to right", "@Bob and @Lilith", "u0", []string{"bob", "lilith"}},
		{"alias", "@bobby hi", "u0", []string{"bob"}},
		{"global alias", "@lil hi", "u0", []string{"lilith"}},
		{"personal alias beats global", "@lil hi", "u1", []string{"bob"}},
		{"other user's alias ignored", "@secret hi", "u1", nil},
		{"unknown", "@Nobody hello", "u0", nil},
		{"email is not a mention", "mail me at me@Lilith.com", "u0", nil},
		{"bare at", "@ Lilith", "u0", nil},
		{"nothing", "hello there", "u0", nil},
		{"at end", "hello @", "u0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range MatchMentions(tt.content, names, tt.user) {
				got = append(got, m.PersonalityID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MatchMentions(%q) = %v, want %v", tt.content, got, tt.want)
			}
		})
	}
}

func TestOrderTriggers(t *testing.T) {
	ms := []Mention{{PersonalityID: "a"}, {PersonalityID: "b"}, {PersonalityID: "a"}, {PersonalityID: "c"}}
	got := OrderTriggers("b", ms, "z", 0)
	want := []Trigger{{"b", "reply"}, {"a", "mention"}, {"c", "mention"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := OrderTriggers("", ms, "z", 2); len(got) != 2 {
		t.Fatalf("cap ignored: %v", got)
	}
	if got := OrderTriggers("", nil, "z", 5); !reflect.DeepEqual(got, []Trigger{{"z", "activation"}}) {
		t.Fatalf("activation: %v", got)
	}
	if got := OrderTriggers("", nil, "", 5); got != nil {
		t.Fatalf("nobody: %v", got)
	}
}

func FuzzMatchMentions(f *testing.F) {
	names := []store.NameEntry{{PersonalityID: "lilith", Name: "Lilith"}, {PersonalityID: "lady", Name: "Lady Lilith"}}
	for _, s := range []string{"@Lilith hi", "@", "@@@", "@Lady Lilith's", "\xff@Lilith", "@L\u0301ilith", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range MatchMentions(s, names, "u") {
			if m.Offset < 0 || m.Offset >= len(s) || s[m.Offset] != '@' {
				t.Fatalf("bad offset %d in %q", m.Offset, s)
			}
		}
	})
}

// BenchmarkMatchMentions: a 200-character message against 500 names (what the gateway's
// workflow resolves on every mention).
func BenchmarkMatchMentions(b *testing.B) {
	var names []store.NameEntry
	for i := 0; i < 500; i++ {
		names = append(names, store.NameEntry{PersonalityID: "p", Name: "Character Number " + string(rune('A'+i%26)) + string(rune('a'+i/26%26))})
	}
	names = append(names, store.NameEntry{PersonalityID: "lilith", Name: "Lilith"})
	msg := "hey everyone, @Lilith what do you think about the plan @Character Number Ab proposed? I think it's fine but @nobody agrees"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(MatchMentions(msg, names, "u")) != 2 {
			b.Fatal("wrong match")
		}
	}
}
