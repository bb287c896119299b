package workers

import (
	"log/slog"

	"go.temporal.io/sdk/log"
)

// newTemporalLogger routes the SDK's logs through our slog handler (and its redaction).
func newTemporalLogger(l *slog.Logger) log.Logger {
	if l == nil {
		l = slog.Default()
	}
	return log.NewStructuredLogger(l)
}
