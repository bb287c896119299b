package shapes

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tzurot/tzurot/store"
)

// placeholders turns shapes.inc's {shape} and {user} into the card macros {{char}} and
// {{user}}, so one expander serves both; text already in card form is left alone.
var placeholders = strings.NewReplacer("{{user}}", "{{user}}", "{{shape}}", "{{char}}", "{shape}", "{{char}}", "{user}", "{{user}}")

// engineParams maps config keys to our parameter names.
var engineParams = []struct{ key, param string }{
	{"engine_temperature", "temperature"},
	{"engine_top_p", "top_p"},
	{"engine_top_k", "top_k"},
	{"engine_frequency_penalty", "frequency_penalty"},
	{"engine_presence_penalty", "presence_penalty"},
	{"engine_repetition_penalty", "repetition_penalty"},
	{"engine_min_p", "min_p"},
	{"engine_top_a", "top_a"},
}

// looksLikeConfig tells a shape config from other JSON: it names the shape and has at
// least one prompt or identity key.
func looksLikeConfig(o object) bool {
	for _, k := range []string{"jailbreak", "user_prompt", "personality_traits", "engine_model", "username"} {
		if _, ok := o[k]; ok {
			return true
		}
	}
	return false
}

// applyConfig maps the config onto b (see docs/SHAPES.md for the table).
func applyConfig(b *Backup, o object, w *warnings) {
	history := placeholders.Replace(strings.TrimSpace(o.text("personality_history", w)))
	catchphrases := placeholders.Replace(strings.TrimSpace(o.text("personality_catchphrases", w)))
	mapPersonality(&b.Personality, o, w, history, catchphrases)
	b.Personality.Birthday = birthday(o, w, b)
	b.Aliases = aliases(o.texts("keywords", w), b.Personality.Name)
	b.Voice = voice(o, w)
	b.Model = model(o, w)
	put(b.Extensions, "personality_history", history)
	put(b.Extensions, "personality_catchphrases", catchphrases)
	configExtensions(b.Extensions, o, w)
	check := b.Personality
	if err := check.Validate(); err != nil {
		w.add("the character will not save as it is: %v", err)
	}
}

func mapPersonality(p *store.Personality, o object, w *warnings, history, catchphrases string) {
	text := func(k string) string { return placeholders.Replace(strings.TrimSpace(o.text(k, w))) }
	settings := o.object("shape_settings")
	p.Name = strings.TrimSpace(o.text("name", w))
	username := strings.TrimSpace(o.text("username", w))
	if p.Name == "" {
		p.Name = username
	}
	p.DisplayName = p.Name
	p.Slug = slugify(username, p.Name)
	p.AvatarURL = firstNonEmpty(o.text("avatar", w), o.text("avatar_url", w))
	p.SystemPrompt = text("jailbreak")
	p.CharacterInfo = fold(text("user_prompt"), "History", history)
	p.Traits = text("personality_traits")
	p.Tone = text("personality_tone")
	p.Age = text("personality_age")
	p.Appearance = firstNonEmpty(text("personality_appearance"), placeholders.Replace(settings.text("appearance", w)), text("personality_physical_traits"))
	p.Likes = text("personality_likes")
	p.Dislikes = text("personality_dislikes")
	p.ConversationalGoals = text("personality_conversational_goals")
	p.ConversationalExamples = fold(text("personality_conversational_examples"), "Catchphrases", catchphrases)
	p.ErrorMessage = text("error_message")
	sensitive, _ := o.boolean("self_identified_sensitive", w)
	flagged, _ := o.boolean("is_sensitive", w)
	p.IsNSFW = sensitive || flagged
}

// configExtensions keeps the config fields with no column.
func configExtensions(ext map[string]any, o object, w *warnings) {
	settings := o.object("shape_settings")
	put(ext, "initial_message", placeholders.Replace(strings.TrimSpace(settings.text("shape_initial_message", w))))
	for _, k := range []string{"wack_message", "sleep_message"} {
		put(ext, k, placeholders.Replace(strings.TrimSpace(o.text(k, w))))
	}
	for _, k := range [][2]string{{"id", "shapes_id"}, {"username", "shapes_username"}, {"timezone", "timezone"}, {"search_description", "search_description"}} {
		put(ext, k[1], strings.TrimSpace(o.text(k[0], w)))
	}
	if owners := o.texts("user_id", w); len(owners) > 0 {
		ext["shapes_owner_ids"] = owners
	}
	for _, k := range []string{"keywords", "favorite_reacts", "search_tags_v2"} {
		if list := o.texts(k, w); len(list) > 0 {
			ext[k] = list
		}
	}
	if t, ok, _ := o.timeValue("created_ts"); ok {
		ext["shapes_created_at"] = t.Format("2006-01-02T15:04:05.999999Z07:00")
	}
}

func put(m map[string]any, k, v string) {
	if k != "" && v != "" {
		m[k] = v
	}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// fold appends a labelled paragraph, as the cards package does for fields we have no
// column for, so the text reaches the prompt.
func fold(base, label, value string) string {
	switch {
	case value == "":
		return base
	case base == "":
		return label + ": " + value
	}
	return base + "\n\n" + label + ": " + value
}

var birthdayPattern = regexp.MustCompile(`^(?:(\d{4})-)?(\d{1,2})-(\d{1,2})$`)

var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// birthday accepts "MM-DD" and "YYYY-MM-DD" (single digits padded); anything else is kept
// in Extensions.birthday_raw with a warning.
func birthday(o object, w *warnings, b *Backup) string {
	raw := strings.TrimSpace(o.text("birthday", w))
	if raw == "" {
		return ""
	}
	m := birthdayPattern.FindStringSubmatch(raw)
	var month, day int
	if m != nil {
		fmt.Sscan(m[2], &month)
		fmt.Sscan(m[3], &day)
	}
	if m == nil || month < 1 || month > 12 || day < 1 || day > daysIn[month] {
		w.add("birthday %q is not MM-DD or YYYY-MM-DD; it was kept aside, not set", raw)
		b.Extensions["birthday_raw"] = raw
		return ""
	}
	out := fmt.Sprintf("%02d-%02d", month, day)
	if m[1] != "" {
		out = m[1] + "-" + out
	}
	return out
}

// aliases cleans the keywords: trimmed, de-duplicated, without the name itself.
func aliases(keywords []string, name string) []string {
	var out []string
	seen := map[string]bool{strings.ToLower(name): true}
	for _, k := range keywords {
		k = strings.TrimSpace(k)
		if k == "" || seen[strings.ToLower(k)] {
			continue
		}
		seen[strings.ToLower(k)] = true
		out = append(out, k)
	}
	return out
}

func voice(o object, w *warnings) VoiceSettings {
	return VoiceSettings{
		Model:      strings.TrimSpace(o.text("voice_model", w)),
		ID:         strings.TrimSpace(o.text("voice_id", w)),
		SampleURL:  strings.TrimSpace(o.text("voice_file", w)),
		Stability:  o.numberPtr("voice_stability", w),
		Similarity: o.numberPtr("voice_similarity", w),
		Style:      o.numberPtr("voice_style", w),
		Frequency:  o.numberPtr("voice_frequency", w),
	}
}

func model(o object, w *warnings) ModelSettings {
	m := ModelSettings{
		Params:          params(o, w),
		FallbackModel:   strings.TrimSpace(o.text("fallback_engine_model", w)),
		MemoryThreshold: o.numberPtr("ltm_threshold", w),
	}
	if name := strings.TrimSpace(o.text("engine_model", w)); name != "" {
		m.Params["model"] = name
	}
	if n, ok := o.number("stm_window", w); ok {
		m.ContextMessages = int(n)
	}
	if n, ok := o.number("ltm_max_retrieved_summaries", w); ok {
		m.MemoryLimit = int(n)
	}
	if v, ok := o.boolean("ltm_enabled", w); ok {
		m.LongTermMemory = &v
	}
	return m
}

// params reads the engine_* sampling values; top_k is a count, the rest are reals.
func params(o object, w *warnings) map[string]any {
	out := map[string]any{}
	for _, e := range engineParams {
		f, ok := o.number(e.key, w)
		if !ok {
			continue
		}
		if e.param == "top_k" {
			out[e.param] = int(f)
		} else {
			out[e.param] = f
		}
	}
	return out
}

var nonSlug = regexp.MustCompile(`[^a-z0-9_-]+`)

// slugify keeps a shapes username as it was where it can (they are already slugs such as
// "cold-kerach-batuach"), else derives one from the name.
func slugify(username, name string) string {
	for _, s := range []string{username, name} {
		s = strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-_")
		if s != "" {
			return s
		}
	}
	return "shape"
}

// personalization reads the user personalization file (an empty object means none).
func personalization(o object, w *warnings) *Personalization {
	p := &Personalization{
		UserID:        strings.TrimSpace(o.text("user_id", w)),
		PreferredName: strings.TrimSpace(o.text("preferred_name", w)),
		Pronouns:      strings.TrimSpace(o.text("pronouns", w)),
		Backstory:     strings.TrimSpace(o.text("backstory", w)),
		Params:        params(o, w),
	}
	if name := strings.TrimSpace(o.text("engine_model", w)); name != "" {
		p.Params["model"] = name
	}
	if p.PreferredName == "" && p.Pronouns == "" && p.Backstory == "" && len(p.Params) == 0 {
		return nil
	}
	if len(p.Params) == 0 {
		p.Params = nil
	}
	return p
}
