-- +goose Up
-- The settings cascade: global default < character default (personalities.llm_config_id)
-- < the user's default < the user's override for one character (user_personality_configs).
-- Guests get the free default alone.
ALTER TABLE users ADD COLUMN default_llm_config_id uuid REFERENCES llm_configs(id) ON DELETE SET NULL;

-- At most one global default and one free default, and only a global preset can be either:
-- every user would otherwise depend on somebody's private preset.
CREATE UNIQUE INDEX llm_configs_one_global_default ON llm_configs (is_global_default) WHERE is_global_default;
CREATE UNIQUE INDEX llm_configs_one_free_default ON llm_configs (is_free_default) WHERE is_free_default;
ALTER TABLE llm_configs ADD CONSTRAINT llm_configs_defaults_are_global
    CHECK (owner_id IS NULL OR NOT (is_global_default OR is_free_default));

-- +goose Down
ALTER TABLE llm_configs DROP CONSTRAINT llm_configs_defaults_are_global;
DROP INDEX llm_configs_one_free_default;
DROP INDEX llm_configs_one_global_default;
ALTER TABLE users DROP COLUMN default_llm_config_id;
