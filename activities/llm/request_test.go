package llm

import (
	"strings"
	"testing"
)

func TestSanitizeName(t *testing.T) {
	tests := map[string]string{
		"alice":                 "alice",
		"Lilith 🌙":              "Lilith",
		"Dr. Who?":              "Dr_Who",
		"  spaced  out  ":       "spaced_out",
		"🌙🌙":                    "",
		"ok_name-1":             "ok_name-1",
		"Zoë":                   "Zo",
		strings.Repeat("a", 70): strings.Repeat("a", 64),
	}
	for in, want := range tests {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConvertMessagesDropsEmpty(t *testing.T) {
	msgs, err := convertMessages([]Message{
		{Role: RoleSystem, Content: "sys"},
		{Role: RoleAssistant, Content: ""},
		{Role: RoleUser, ImageURLs: []string{"https://x/a.png"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || len(msgs[1].MultiContent) != 1 {
		t.Errorf("got %+v", msgs)
	}
	if _, err := convertMessages([]Message{{Role: "tool", Content: "x"}}); err == nil {
		t.Error("unknown role accepted")
	}
	if _, err := convertMessages([]Message{{Role: RoleUser}}); err == nil {
		t.Error("all-empty messages accepted")
	}
}
