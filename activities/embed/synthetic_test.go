package embed_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// synthetic writes chat-memory-like sentences from a seeded generator, so the scale
// benchmark stores vectors shaped like the ones Local really produces (a few topical
// words, names, numbers) rather than uniform noise. The same seed gives the same text.
type synthetic struct{ rng *rand.Rand }

func newSynthetic(seed uint64) *synthetic {
	return &synthetic{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

var (
	synSubjects = strings.Fields(`I my-sister my-brother my-mum my-dad my-partner my-roommate
		my-best-friend my-boss my-cat my-dog my-kid my-neighbour my-grandma my-coworker my-therapist
		my-coach my-teacher my-landlord my-ex`)
	synVerbs = strings.Fields(`started finished bought lost found cooked painted fixed broke
		visited cancelled booked watched learned hated loved planned sold adopted missed
		practised wrote read climbed ran swam baked drove played built cleaned`)
	synObjects = strings.Fields(`guitar marathon sourdough bread violin garden tomatoes
		roses bike car apartment flat sofa laptop phone camera novel thesis exam interview
		wedding birthday concert festival holiday trip ticket recipe lasagne ramen curry tattoo
		haircut puppy kitten budgie gecko rabbit aquarium painting sketchbook podcast game
		chessboard telescope tent kayak surfboard piano drumkit sewing-machine pottery-wheel`)
	synWhen = strings.Fields(`today yesterday last-week last-month on-Friday on-Sunday
		this-morning at-night in-June in-December after-work before-school on-holiday
		at-the-weekend during-lunch`)
	synFeelings = strings.Fields(`and-loved-it and-hated-it and-cried and-laughed so-proud
		so-tired kind-of-anxious really-excited bit-disappointed super-happy totally-exhausted
		weirdly-calm`)
	synPlaces = strings.Fields(`Leeds Manchester Plymouth Norwich Berlin Vancouver Osaka
		Lisbon Naples Hamburg Portland Edinburgh Bristol Toronto Dublin Austin`)
)

// memory returns one synthetic memory.
func (s *synthetic) memory() string {
	pick := func(list []string) string { return strings.ReplaceAll(list[s.rng.IntN(len(list))], "-", " ") }
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s the %s %s", pick(synSubjects), pick(synVerbs), pick(synObjects), pick(synWhen))
	if s.rng.IntN(2) == 0 {
		fmt.Fprintf(&b, " in %s", pick(synPlaces))
	}
	if s.rng.IntN(2) == 0 {
		fmt.Fprintf(&b, ", %s", pick(synFeelings))
	}
	if s.rng.IntN(3) == 0 {
		fmt.Fprintf(&b, ", it cost %d", 5+s.rng.IntN(995))
	}
	return b.String()
}

// query returns a question a user might ask about such memories.
func (s *synthetic) query() string {
	pick := func(list []string) string { return strings.ReplaceAll(list[s.rng.IntN(len(list))], "-", " ") }
	switch s.rng.IntN(3) {
	case 0:
		return fmt.Sprintf("what happened with the %s %s?", pick(synObjects), pick(synWhen))
	case 1:
		return fmt.Sprintf("did %s ever get that %s?", pick(synSubjects), pick(synObjects))
	default:
		return fmt.Sprintf("remember when I %s the %s in %s?", pick(synVerbs), pick(synObjects), pick(synPlaces))
	}
}
