package reply

import "testing"

func TestClean(t *testing.T) {
	tests := []struct {
		name, raw, api, user string
		text, reasoning      string
	}{
		{"plain", "Hello there.", "", "hi", "Hello there.", ""},
		{"think tags", "<think>She wants a greeting.</think>\nHello!", "", "hi", "Hello!", "She wants a greeting."},
		{"thinking upper", "<THINKING>plan</THINKING>Done.", "", "x", "Done.", "plan"},
		{"api reasoning", "Answer.", "step by step", "x", "Answer.", "step by step"},
		{"unclosed think", "<think>I was cut off mid", "", "x", "", "I was cut off mid"},
		{"name echo", "Lilith: Well, well.", "", "x", "Well, well.", ""},
		{"bold name echo", "**Lilith:** Well.", "", "x", "Well.", ""},
		{"name with tag", "Lilith (character): Hm.", "", "x", "Hm.", ""},
		{"name not at start", "I am Lilith: no.", "", "x", "I am Lilith: no.", ""},
		{"user echo line", "Alice: what do you think?\nI think you're right.", "", "what do you think?", "I think you're right.", ""},
		{"both", "<think>t</think>Lilith: Alice (just now): hi\nHello Alice.", "", "hi", "Hello Alice.", "t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clean(tt.raw, tt.api, "Lilith", tt.user)
			if got.Text != tt.text || got.Reasoning != tt.reasoning {
				t.Errorf("Clean(%q) = %+v, want text %q reasoning %q", tt.raw, got, tt.text, tt.reasoning)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		text, user, prev, want string
	}{
		{"Hello.", "hi", "", ""},
		{"", "hi", "", "empty"},
		{"  ...  ", "hi", "", "empty"},
		{"What do you think?", "what do you think", "", "echo of the user's message"},
		{"again please", "@Lilith again please", "", "echo of the user's message"},
		{"Lilith", "@Lilith", "", ""},
		{"Same again.", "x", "same again", "duplicate of the previous reply"},
		{"Something new.", "x", "same again", ""},
	}
	for _, tt := range tests {
		if got := Verdict(Cleaned{Text: tt.text}, tt.user, tt.prev); got != tt.want {
			t.Errorf("Verdict(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"<think>a</think>b", "Lilith: x", "<think>", "</think>", "\xff", "Lilith:\n\n"} {
		f.Add(s, "Lilith", "hi")
	}
	f.Fuzz(func(t *testing.T, raw, name, user string) {
		c := Clean(raw, "", name, user)
		if len(c.Text) > len(raw) {
			t.Fatalf("cleaning grew the text: %q -> %q", raw, c.Text)
		}
		_ = Verdict(c, user, "")
	})
}
