-- +goose Up
-- Reasoning a model produced is kept (for the owner and operators), never posted.
ALTER TABLE turn_contexts ADD COLUMN reasoning text NOT NULL DEFAULT '';
ALTER TABLE conversation_history ADD COLUMN reasoning text NOT NULL DEFAULT '';
-- A character may show which model answered under each reply.
ALTER TABLE personalities ADD COLUMN show_model_footer boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE personalities DROP COLUMN show_model_footer;
ALTER TABLE conversation_history DROP COLUMN reasoning;
ALTER TABLE turn_contexts DROP COLUMN reasoning;
