-- +goose Up
-- Memory that lives: every turn becomes a memory, recall strengthens it, scheduled agents
-- decay, summarize and "dream" over it, and users can see and shape what is kept.

-- embedder names the model that wrote a memory's vector ('' = none yet: an import, or a
-- write while the embeddings provider was down). Vectors of different embedders do not
-- mix, so retrieval only reads rows of the configured embedder and the re-embed job
-- rewrites the others.
ALTER TABLE memories
    ADD COLUMN embedder       text NOT NULL DEFAULT '',
    ADD COLUMN locked         boolean NOT NULL DEFAULT false,
    -- where the memory came from: a conversation turn, a summary of older turns, a dream's
    -- reflection, or an import (every row before this migration).
    ADD COLUMN origin         text NOT NULL DEFAULT 'import'
                              CHECK (origin IN ('turn', 'summary', 'dream', 'import')),
    ADD COLUMN archived_at    timestamptz,
    ADD COLUMN archive_reason text NOT NULL DEFAULT '',
    -- the memory that took this one's place (a summary, a dream's merge), for audit and undo
    ADD COLUMN replaced_by    uuid REFERENCES memories(id) ON DELETE SET NULL,
    -- the decay agent's clock: salience decays by the days since this (else created_at)
    ADD COLUMN decayed_at     timestamptz;

CREATE INDEX memories_turns ON memories (personality_id, persona_id, created_at)
    WHERE origin = 'turn' AND NOT archived;
CREATE INDEX memories_stale ON memories (id) WHERE embedding IS NULL;
CREATE INDEX memory_links_to ON memory_links (to_id);

-- One row of operator settings for memory (weights of the hybrid score, quota, decay
-- rates...). Absent keys take the defaults in code (activities.DefaultMemorySettings).
CREATE TABLE memory_settings (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    settings   jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A user's memory switches: incognito (turns write no memory) and fresh (turns recall none).
CREATE TABLE memory_modes (
    user_id    uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    incognito  boolean NOT NULL DEFAULT false,
    fresh      boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- /history clear: the context a character sees of a user starts at cutoff. previous is what
-- /history undo restores (NULL: no cutoff).
CREATE TABLE history_cutoffs (
    user_id        uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    personality_id uuid NOT NULL REFERENCES personalities(id) ON DELETE CASCADE,
    cutoff         timestamptz,
    previous       timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, personality_id)
);

-- Each stretch the summarize agent looked at: summarized (memory_id is the summary; the
-- originals are archived with replaced_by = memory_id) or skipped with a reason (nothing
-- changed; the stretch is tried again after retry_after).
CREATE TABLE memory_summaries (
    id             bigserial PRIMARY KEY,
    run_id         text NOT NULL,
    personality_id uuid NOT NULL REFERENCES personalities(id) ON DELETE CASCADE,
    persona_id     uuid NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    source_ids     uuid[] NOT NULL,
    memory_id      uuid REFERENCES memories(id) ON DELETE SET NULL,
    status         text NOT NULL CHECK (status IN ('summarized', 'skipped')),
    reason         text NOT NULL DEFAULT '',
    retry_after    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memory_summaries_scope ON memory_summaries (personality_id, persona_id, created_at DESC);

-- Every dream records what it added, merged and archived, so /memory undo-dream can revert
-- it. merged: [{"kept": id, "dropped": id, "kept_salience": before}]; contradictions:
-- [{"a": id, "b": id, "note": text}].
CREATE TABLE dreams (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id         text NOT NULL,
    personality_id uuid NOT NULL REFERENCES personalities(id) ON DELETE CASCADE,
    persona_id     uuid NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
    added          uuid[] NOT NULL DEFAULT '{}',
    merged         jsonb NOT NULL DEFAULT '[]'::jsonb,
    archived       uuid[] NOT NULL DEFAULT '{}',
    contradictions jsonb NOT NULL DEFAULT '[]'::jsonb,
    note           text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    undone_at      timestamptz,
    UNIQUE (run_id, personality_id, persona_id)
);
CREATE INDEX dreams_persona ON dreams (persona_id, created_at DESC);

-- +goose Down
DROP TABLE dreams, memory_summaries, history_cutoffs, memory_modes, memory_settings;
DROP INDEX memory_links_to;
DROP INDEX memories_stale;
DROP INDEX memories_turns;
ALTER TABLE memories DROP COLUMN decayed_at, DROP COLUMN replaced_by, DROP COLUMN archive_reason,
    DROP COLUMN archived_at, DROP COLUMN origin, DROP COLUMN locked, DROP COLUMN embedder;
