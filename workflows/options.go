package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
)

func withOptions(ctx workflow.Context, o workflow.ActivityOptions) workflow.Context {
	return workflow.WithActivityOptions(ctx, o)
}

// Activity options, each chosen for what the activity touches.
var (
	// dbOptions: PostgreSQL reads and idempotent writes; quick, retried for a few minutes
	// so a database restart is ridden out.
	dbOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 15 * time.Second},
	}
	// discordReadOptions: Discord REST reads; rate limits are waited out inside discordgo.
	discordReadOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		HeartbeatTimeout:       10 * time.Second, // the typing loop heartbeats every 4 s
		ScheduleToCloseTimeout: 3 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 20 * time.Second},
	}
	// memoryOptions: optional enrichment, so few attempts.
	memoryOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3},
	}
	// llmOptions: a generation may take a minute; 5xx, timeouts and 429s retry with
	// backoff (429 after the provider's Retry-After) until the overall deadline; errors
	// that cannot succeed stop at once.
	llmOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		// The typing loop heartbeats every 4 s: a worker that dies mid-generation is noticed
		// in 10 s, not after the two-minute limit.
		HeartbeatTimeout:       10 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeLLMAuth, activities.ErrTypeLLMCredit,
				activities.ErrTypeLLMBadRequest, activities.ErrTypeNoPersonality, activities.ErrTypeBadPreset},
		},
	}
	// deliverOptions: the reply must arrive; Discord outages are retried for up to an
	// hour. Delivery is idempotent per chunk, so retries never double a message.
	deliverOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		HeartbeatTimeout:       15 * time.Second, // a heartbeat per chunk
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrTypeDiscord},
		},
	}
)
