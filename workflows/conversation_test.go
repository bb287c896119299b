package workflows

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
)

type conversationSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
}

func TestConversation(t *testing.T) { suite.Run(t, new(conversationSuite)) }

func (s *conversationSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(&activities.Activities{})
}

func (s *conversationSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

var (
	msg    = activities.MessageSnapshot{ID: "111", ChannelID: "c1", GuildID: "g1", AuthorID: "u1", Content: "@Lilith @Bob hi"}
	lilith = activities.PersonalityRef{ID: "p-lilith", Slug: "lilith", DisplayName: "Lilith", Reason: "mention"}
	bob    = activities.PersonalityRef{ID: "p-bob", Slug: "bob", DisplayName: "Bob", Reason: "mention"}
	user   = activities.UserRef{ID: "user-1", PersonaID: "persona-1", DisplayName: "Alice"}
)

func (s *conversationSuite) resolves(ps ...activities.PersonalityRef) {
	s.env.OnActivity(a.ResolvePersonalities, mock.Anything, mock.Anything).
		Return(activities.ResolvePersonalitiesResult{Personalities: ps, User: user}, nil).Once()
}

func (s *conversationSuite) happyPath(p activities.PersonalityRef, reply string, prior int) {
	s.env.OnActivity(a.ResolveKey, mock.Anything, activities.ResolveKeyInput{UserID: user.ID, PersonalityID: p.ID}).
		Return(activities.KeyHandle{Provider: "openrouter", Guest: true}, nil).Once()
	s.env.OnActivity(a.FetchContext, mock.Anything, mock.MatchedBy(func(in activities.FetchContextInput) bool {
		return in.Personality.ID == p.ID && len(in.PriorReplies) == prior
	})).Return(activities.FetchContextResult{Messages: 3}, nil).Once()
	s.env.OnActivity(a.RetrieveMemories, mock.Anything, mock.Anything).Return(activities.RetrieveMemoriesResult{}, nil).Once()
	s.env.OnActivity(a.CallLLM, mock.Anything, mock.MatchedBy(func(in activities.CallLLMInput) bool { return in.Personality.ID == p.ID })).
		Return(activities.CallLLMResult{Text: reply, Model: "m", TokensIn: 10, TokensOut: 5}, nil).Once()
	s.env.OnActivity(a.DeliverReply, mock.Anything, mock.MatchedBy(func(in activities.DeliverReplyInput) bool {
		return in.Personality.ID == p.ID && in.Text == reply && !in.ErrorMessage
	})).Return(activities.DeliverReplyResult{MessageIDs: []string{"d-" + p.Slug}}, nil).Once()
	s.env.OnActivity(a.RecordTurn, mock.Anything, mock.MatchedBy(func(in activities.RecordTurnInput) bool {
		return in.Personality.ID == p.ID && in.Reply.Text == reply && in.MessageIDs[0] == "d-"+p.Slug
	})).Return(activities.RecordTurnResult{}, nil).Once()
}

func (s *conversationSuite) result() ConversationResult {
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var res ConversationResult
	s.NoError(s.env.GetWorkflowResult(&res))
	return res
}

func (s *conversationSuite) TestNobodyCalledRunsNothingElse() {
	s.resolves()
	s.env.ExecuteWorkflow(ConversationWorkflow, ConversationInput{Message: msg})
	s.Empty(s.result().Replies)
}

func (s *conversationSuite) TestOnePersonalityRunsEveryStepInOrder() {
	s.resolves(lilith)
	s.happyPath(lilith, "Well, well.", 0)
	s.env.ExecuteWorkflow(ConversationWorkflow, ConversationInput{Message: msg})
	res := s.result()
	s.Equal([]ReplyOutcome{{PersonalityID: lilith.ID, Slug: "lilith", MessageIDs: []string{"d-lilith"}}}, res.Replies)

	v, err := s.env.QueryWorkflow(QueryStatus)
	s.NoError(err)
	var st Status
	s.NoError(v.Get(&st))
	s.Equal("Done", st.Step)
	s.Equal([]string{"lilith"}, st.Done)
}

func (s *conversationSuite) TestSecondPersonalitySeesTheFirstReply() {
	s.resolves(lilith, bob)
	s.happyPath(lilith, "first", 0)
	s.happyPath(bob, "second", 1)
	s.env.ExecuteWorkflow(ConversationWorkflow, ConversationInput{Message: msg})
	res := s.result()
	s.Len(res.Replies, 2)
	s.Equal("lilith", res.Replies[0].Slug)
	s.Equal("bob", res.Replies[1].Slug)
}

func (s *conversationSuite) TestBadKeyDeliversErrorMessageAndOthersStillAnswer() {
	s.resolves(lilith, bob)
	s.env.OnActivity(a.ResolveKey, mock.Anything, mock.Anything).Return(activities.KeyHandle{Provider: "openrouter"}, nil)
	s.env.OnActivity(a.FetchContext, mock.Anything, mock.Anything).Return(activities.FetchContextResult{}, nil)
	s.env.OnActivity(a.RetrieveMemories, mock.Anything, mock.Anything).Return(activities.RetrieveMemoriesResult{}, nil)
	s.env.OnActivity(a.CallLLM, mock.Anything, mock.MatchedBy(func(in activities.CallLLMInput) bool { return in.Personality.ID == lilith.ID })).
		Return(activities.CallLLMResult{}, temporal.NewNonRetryableApplicationError("key rejected", activities.ErrTypeLLMAuth, nil)).Once()
	s.env.OnActivity(a.CallLLM, mock.Anything, mock.MatchedBy(func(in activities.CallLLMInput) bool { return in.Personality.ID == bob.ID })).
		Return(activities.CallLLMResult{Text: "bob here"}, nil).Once()
	s.env.OnActivity(a.DeliverReply, mock.Anything, mock.MatchedBy(func(in activities.DeliverReplyInput) bool {
		return in.Personality.ID == lilith.ID && in.ErrorMessage
	})).Return(activities.DeliverReplyResult{MessageIDs: []string{"err"}}, nil).Once()
	s.env.OnActivity(a.DeliverReply, mock.Anything, mock.MatchedBy(func(in activities.DeliverReplyInput) bool {
		return in.Personality.ID == bob.ID && in.Text == "bob here"
	})).Return(activities.DeliverReplyResult{MessageIDs: []string{"ok"}}, nil).Once()
	s.env.OnActivity(a.RecordTurn, mock.Anything, mock.Anything).Return(activities.RecordTurnResult{}, nil).Once()

	s.env.ExecuteWorkflow(ConversationWorkflow, ConversationInput{Message: msg})
	res := s.result()
	s.Len(res.Replies, 2)
	s.True(res.Replies[0].Failed)
	s.Contains(res.Replies[0].Reason, activities.ErrTypeLLMAuth)
	s.Equal([]string{"err"}, res.Replies[0].MessageIDs)
	s.False(res.Replies[1].Failed)
}

func (s *conversationSuite) TestMemoriesFailingDoNotStopTheReply() {
	s.resolves(lilith)
	s.env.OnActivity(a.ResolveKey, mock.Anything, mock.Anything).Return(activities.KeyHandle{}, nil)
	s.env.OnActivity(a.FetchContext, mock.Anything, mock.Anything).Return(activities.FetchContextResult{}, nil)
	s.env.OnActivity(a.RetrieveMemories, mock.Anything, mock.Anything).Return(activities.RetrieveMemoriesResult{}, errors.New("pgvector down"))
	s.env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{Text: "still here"}, nil).Once()
	s.env.OnActivity(a.DeliverReply, mock.Anything, mock.Anything).Return(activities.DeliverReplyResult{MessageIDs: []string{"x"}}, nil).Once()
	s.env.OnActivity(a.RecordTurn, mock.Anything, mock.Anything).Return(activities.RecordTurnResult{}, nil).Once()
	s.env.ExecuteWorkflow(ConversationWorkflow, ConversationInput{Message: msg})
	res := s.result()
	s.False(res.Replies[0].Failed)
}

func (s *conversationSuite) TestDeliveryFailureIsReportedNotRecorded() {
	s.resolves(lilith)
	s.env.OnActivity(a.ResolveKey, mock.Anything, mock.Anything).Return(activities.KeyHandle{}, nil)
	s.env.OnActivity(a.FetchContext, mock.Anything, mock.Anything).Return(activities.FetchContextResult{}, nil)
	s.env.OnActivity(a.RetrieveMemories, mock.Anything, mock.Anything).Return(activities.RetrieveMemoriesResult{}, nil)
	s.env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{Text: "hi"}, nil).Once()
	s.env.OnActivity(a.DeliverReply, mock.Anything, mock.Anything).
		Return(activities.DeliverReplyResult{}, temporal.NewNonRetryableApplicationError("missing access", activities.ErrTypeDiscord, nil)).Once()
	s.env.ExecuteWorkflow(ConversationWorkflow, ConversationInput{Message: msg})
	res := s.result()
	s.True(res.Replies[0].Failed)
	s.Contains(res.Replies[0].Reason, "delivery")
}

func (s *conversationSuite) TestGuestOverQuotaIsToldHowToGoOn() {
	s.resolves(lilith)
	s.env.OnActivity(a.ResolveKey, mock.Anything, mock.Anything).
		Return(activities.KeyHandle{}, temporal.NewNonRetryableApplicationError("the free tier is used up for today; add your own key with /settings apikey set", activities.ErrTypeGuestQuota, nil)).Once()
	s.env.OnActivity(a.DeliverReply, mock.Anything, mock.MatchedBy(func(in activities.DeliverReplyInput) bool {
		return in.ErrorMessage && strings.Contains(in.Notice, "/settings apikey set")
	})).Return(activities.DeliverReplyResult{MessageIDs: []string{"notice"}}, nil).Once()
	s.env.ExecuteWorkflow(ConversationWorkflow, ConversationInput{Message: msg})
	res := s.result()
	s.True(res.Replies[0].Failed)
	s.Contains(res.Replies[0].Reason, activities.ErrTypeGuestQuota)
}
