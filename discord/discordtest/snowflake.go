package discordtest

import (
	"strconv"
	"time"
)

// discordEpochMS is the first millisecond of 2015, the origin of Discord
// snowflake timestamps.
const discordEpochMS = 1420070400000

// snowflakes hands out Discord-shaped ids: 42 bits of milliseconds since the
// Discord epoch, then worker, process and increment bits. Ids are strictly
// increasing even when the clock stands still or steps back, because the bot
// (like any Discord client) orders messages by id. Not safe for concurrent
// use; the Server mutex guards it.
type snowflakes struct {
	last uint64
}

// next returns a fresh id and the time it encodes.
func (g *snowflakes) next(now time.Time) (string, time.Time) {
	ms := uint64(now.UnixMilli() - discordEpochMS)
	id := ms<<22 | 1<<17 | 1<<12
	if id <= g.last {
		id = g.last + 1
	}
	g.last = id
	return strconv.FormatUint(id, 10), snowflakeTime(id)
}

// snowflakeTime returns the creation time encoded in a snowflake.
func snowflakeTime(id uint64) time.Time {
	return time.UnixMilli(int64(id>>22) + discordEpochMS).UTC()
}

// parseSnowflake reads an id; ok is false for anything that is not a
// positive decimal integer, which Discord rejects too.
func parseSnowflake(s string) (uint64, bool) {
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil && v > 0
}
