package cards

import "testing"

func TestExpandMacros(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"v2", "{{char}} greets {{user}}.", "Lilith greets Ana."},
		{"case", "{{CHAR}} and {{User}}", "Lilith and Ana"},
		{"v1", "<BOT>: hi <USER>", "Lilith: hi Ana"},
		{"v1 lower", "<bot> <user> <Char>", "Lilith Ana Lilith"},
		{"not a macro", "{{chars}} {char} <b>bold</b> {{", "{{chars}} {char} <b>bold</b> {{"},
		{"adjacent", "{{char}}{{user}}<USER>", "LilithAnaAna"},
		{"no re-expansion", "{{user}}", "{{char}}"},
		{"unicode around", "«{{char}}» — ✨<user>✨", "«Lilith» — ✨Ana✨"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := "Ana"
			if tt.name == "no re-expansion" {
				user = "{{char}}"
			}
			if got := ExpandMacros(tt.in, "Lilith", user); got != tt.want {
				t.Errorf("ExpandMacros(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
