package shapes

import (
	"encoding/json"
	"strings"
)

// listOf reads a file that holds a list: a bare array, or an object wrapping one under
// any of keys (the API pages said `items`, older dumps `memories`, `story`...).
func listOf(b []byte, keys ...string) ([]json.RawMessage, bool) {
	var list []json.RawMessage
	if json.Unmarshal(b, &list) == nil {
		return list, true
	}
	o, ok := decodeObject(b)
	if !ok {
		return nil, false
	}
	for _, k := range keys {
		if raw, ok := o[k]; ok && json.Unmarshal(raw, &list) == nil {
			return list, true
		}
	}
	return nil, false
}

// memories reads memory entries in every shape seen: the API's {result, metadata{...}},
// older dumps with created_at at the top, and the memories-only export's
// {type, content, date "MM/DD/YYYY"}. Deleted and empty entries are skipped and counted.
func memories(list []json.RawMessage, w *warnings) []Memory {
	var out []Memory
	var deleted, empty, odd, undated int
	for _, raw := range list {
		o, ok := decodeObject(raw)
		if !ok {
			odd++
			continue
		}
		if d, _ := o.boolean("deleted", w); d {
			deleted++
			continue
		}
		meta := o.object("metadata")
		m := Memory{
			ID:         strings.TrimSpace(o.text("id", w)),
			Content:    strings.TrimSpace(firstNonEmpty(o.text("result", w), o.text("content", w), o.text("summary", w), o.text("text", w))),
			Senders:    firstList(meta.texts("senders", w), o.texts("senders", w)),
			ChannelID:  strings.TrimSpace(meta.text("discord_channel_id", w)),
			GuildID:    strings.TrimSpace(meta.text("discord_guild_id", w)),
			Type:       strings.TrimSpace(firstNonEmpty(o.text("summary_type", w), o.text("type", w))),
			MessageIDs: meta.texts("msg_ids", w),
		}
		if m.Content == "" {
			empty++
			continue
		}
		found := false
		for _, src := range []struct {
			o   object
			key string
		}{{meta, "created_at"}, {o, "created_at"}, {meta, "end_ts"}, {meta, "start_ts"}, {o, "date"}, {o, "timestamp"}} {
			if t, ok, _ := src.o.timeValue(src.key); ok {
				m.CreatedAt, found = t, true
				break
			}
		}
		if !found {
			undated++
		}
		out = append(out, m)
	}
	report(w, deleted, "deleted memory was skipped", "deleted memories were skipped")
	report(w, empty, "memory had no text and was skipped", "memories had no text and were skipped")
	report(w, odd, "memory entry was not an object and was skipped", "memory entries were not objects and were skipped")
	report(w, undated, "memory has no date it could read", "memories have no date it could read")
	return out
}

// knowledgePlaceholders are the texts shapes.inc put in new, unedited knowledge slots.
var knowledgePlaceholders = map[string]bool{
	"Insert general knowledge here": true,
	"Insert relationship here":      true,
	"Insert command here":           true,
	`Insert "personal" custom added sorting option for knowledge here`: true,
}

var knownStoryTypes = map[string]bool{"": true, "general": true, "command": true, "relationship": true, "personal": true}

func knowledge(list []json.RawMessage, w *warnings) []Knowledge {
	var out []Knowledge
	var skipped int
	unknownTypes := map[string]bool{}
	for _, raw := range list {
		o, ok := decodeObject(raw)
		if !ok {
			skipped++
			continue
		}
		if d, _ := o.boolean("deleted", w); d {
			continue
		}
		k := Knowledge{
			ID:        strings.TrimSpace(o.text("id", w)),
			Type:      strings.TrimSpace(o.text("story_type", w)),
			Title:     strings.TrimSpace(o.text("title", w)),
			Content:   strings.TrimSpace(o.text("content", w)),
			URLs:      o.texts("urls", w),
			OriginURL: strings.TrimSpace(o.text("origin_url", w)),
		}
		if k.Content == "" || knowledgePlaceholders[k.Content] {
			skipped++
			continue
		}
		if t := strings.TrimSuffix(k.Type, "s"); t != k.Type && knownStoryTypes[t] {
			k.Type = t // openshapes wrote "relationships", "commands"
		}
		if !knownStoryTypes[k.Type] && !unknownTypes[k.Type] {
			unknownTypes[k.Type] = true
			w.add("knowledge type %q is not one we know; those entries were kept as they are", k.Type)
		}
		k.CreatedAt, _, _ = o.timeValue("created_ts")
		k.UpdatedAt, _, _ = o.timeValue("updated_ts")
		out = append(out, k)
	}
	report(w, skipped, "knowledge entry was empty or a placeholder and was skipped", "knowledge entries were empty or placeholders and were skipped")
	return out
}

func chatHistory(list []json.RawMessage, w *warnings) []ChatMessage {
	var out []ChatMessage
	for _, raw := range list {
		o, ok := decodeObject(raw)
		if !ok {
			continue
		}
		m := ChatMessage{
			ID:             strings.TrimSpace(o.text("id", w)),
			Message:        o.text("message", w),
			Reply:          o.text("reply", w),
			AttachmentURL:  strings.TrimSpace(o.text("attachment_url", w)),
			AttachmentType: strings.TrimSpace(o.text("attachment_type", w)),
			VoiceReplyURL:  strings.TrimSpace(o.text("voice_reply_url", w)),
		}
		m.At, _, _ = o.timeValue("ts")
		if m.Message == "" && m.Reply == "" && m.AttachmentURL == "" {
			continue
		}
		out = append(out, m)
	}
	return out
}

func firstList(lists ...[]string) []string {
	for _, l := range lists {
		if len(l) > 0 {
			return l
		}
	}
	return nil
}

func report(w *warnings, n int, one, many string) {
	switch {
	case n == 1:
		w.add("1 %s", one)
	case n > 1:
		w.add("%d %s", n, many)
	}
}
