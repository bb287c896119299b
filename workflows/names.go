// Package workflows holds Tzurot's workflow definitions: deterministic code that performs
// no I/O, reads no clock and no randomness except through the workflow package. Names of
// task queues, workflow-ID prefixes, queries and search attributes live here once;
// discord/ (which starts workflows) and workers/ (which registers them) import them.
package workflows

import "go.temporal.io/sdk/temporal"

// TaskQueue is where conversation workflows and their activities run.
const TaskQueue = "tzurot-conversations"

// ConversationIDPrefix + the Discord message id is a conversation workflow's id: one
// message, one workflow, whatever redelivers it.
const ConversationIDPrefix = "msg-"

// ConversationWorkflowName is the registered name operators see in the Temporal UI.
const ConversationWorkflowName = "ConversationWorkflow"

// QueryStatus names the query that reports the step a conversation is in.
const QueryStatus = "status"

// Search attributes set on every conversation so operators can find a stuck generation by
// personality, user, guild or channel in the Temporal UI.
var (
	AttrPersonality = temporal.NewSearchAttributeKeyKeywordList("TzurotPersonality")
	AttrUser        = temporal.NewSearchAttributeKeyKeyword("TzurotUser")
	AttrGuild       = temporal.NewSearchAttributeKeyKeyword("TzurotGuild")
	AttrChannel     = temporal.NewSearchAttributeKeyKeyword("TzurotChannel")
	// AttrTrigger says how the characters were called: reply, mention, activation.
	AttrTrigger = temporal.NewSearchAttributeKeyKeywordList("TzurotTrigger")
)

// ConversationID returns the workflow id for a Discord message.
func ConversationID(discordMessageID string) string { return ConversationIDPrefix + discordMessageID }
