package embed

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// word is one token of a text: the lower-cased surface form (what character n-grams are
// cut from, so a typo still shares most of them) and its light stem (what unigram and
// bigram features use, so "hiking", "hiked" and "hikes" meet).
type word struct {
	surface string
	stem    string
	stop    bool
	weight  float64 // 1, or weakWeight for a common word
}

// words splits text into lower-cased words of letters and digits. An apostrophe inside a
// word joins it ("don't" -> "dont") and a possessive 's is dropped ("Maya's" -> "maya");
// everything else (spaces, punctuation, hyphens, emoji) separates words.
func words(text string) []word {
	var out []word
	var b strings.Builder
	flush := func() {
		if b.Len() == 0 {
			return
		}
		s := b.String()
		b.Reset()
		w := word{surface: s, stem: stem(s), stop: stopwords[s], weight: 1}
		if weakWords[s] {
			w.weight = weakWeight
		}
		out = append(out, w)
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case (r == '\'' || r == '’') && b.Len() > 0:
			next, nsize := utf8.DecodeRuneInString(text[i+size:])
			if !unicode.IsLetter(next) {
				flush()
				break
			}
			if next == 's' || next == 'S' {
				after, _ := utf8.DecodeRuneInString(text[i+size+nsize:])
				if !unicode.IsLetter(after) && !unicode.IsDigit(after) {
					size += nsize // possessive: drop "'s"
					flush()
				}
			}
		default:
			flush()
		}
		i += size
	}
	flush()
	return out
}

// stem strips the commonest English inflections. It is deliberately light: a wrong merge
// costs more than a missed one, because character n-grams already catch most near misses.
// A final "e" is always dropped so "bake", "baked" and "baking" share the stem "bak".
func stem(w string) string {
	if len(w) <= 3 || !isASCII(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ness") && len(w) > 6:
		w = w[:len(w)-4]
	case strings.HasSuffix(w, "ing") && len(w) > 5 && hasVowel(w[:len(w)-3]):
		w = undouble(w[:len(w)-3])
	case strings.HasSuffix(w, "ed") && len(w) > 4 && !strings.HasSuffix(w, "eed") && hasVowel(w[:len(w)-2]):
		w = undouble(w[:len(w)-2])
	case strings.HasSuffix(w, "ly") && len(w) > 6:
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "es") && len(w) > 4 && strings.ContainsRune("sxz", rune(w[len(w)-3])):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	if len(w) > 3 && w[len(w)-1] == 'e' {
		w = w[:len(w)-1]
	}
	if len(w) > 3 && w[len(w)-1] == 'i' && w[len(w)-2] != 'i' {
		w = w[:len(w)-1] + "y" // "married" -> "marri" -> "marry", "movie" -> "movy"
	}
	return w
}

// undouble turns "runn" (from "running") into "run", but keeps "fall", "kiss" and "buzz".
func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouslz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

func hasVowel(s string) bool { return strings.ContainsAny(s, "aeiouy") }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// stopwords carry no topic. They are dropped from features unless a text has nothing
// else. The list is small on purpose: chat filler ("lol", "tbh") is in it, but words
// that can carry a preference or an event ("like", "love", "never") are not.
var stopwords = toSet(`a about above after again all also am an and any are as at be because
been before being below between both but by can cant could couldnt did didnt do does doesnt
doing dont down during each few for from further had hadnt has hasnt have havent having he
her here hers herself him himself his how i id if ill im in into is isnt it its itself ive
just me more most my myself no nor not now of off on once only or other our ours ourselves
out over own same she shed shell shes should so some such than that thats the their theirs
them themselves then there theres these they theyd theyll theyre theyve this those through
to too under until up very was wasnt we wed well were werent weve what whats when where
which while who whom whos why will with wont would wouldnt you youd youll youre youve your
yours yourself yourselves lol lmao haha hahaha omg tbh btw idk ok okay yeah yes yep um uh
oh hey hi hello gonna wanna kinda sorta really`)

// weakWords are frequent in any English chat whatever its topic ("going", "called",
// "thing", "today"). They still count, at weakWeight, because one of them can be the
// point of a sentence; but a query's "how's it going" should not outrank its one
// misspelled topic word. It is a hand-made stand-in for inverse document frequency,
// from general English rather than from any one user's memories.
var weakWords = toSet(`go goes going went gone get gets getting got gotten make makes making
made know knows knew known think thinks thought say says said saying tell tells told call
calls called calling ask asks asked want wants wanted need needs needed take takes took
taken come comes came coming see sees saw seen look looks looking looked give gives gave
given use uses used find finds found put puts keep keeps kept let lets seem seems seemed
feel feels try tries tried thing things stuff something anything everything nothing
someone anyone everyone way ways lot lots much many bit kind sort one good bad great
today yesterday tomorrow still even ever again maybe probably actually pretty quite right
sure name names named`)

func toSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
