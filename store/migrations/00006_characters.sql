-- +goose Up
-- Characters belong to their users: uploaded avatars, the data export ZIPs on their way to
-- the user, and the record of an erasure in progress.

-- An avatar a user uploaded with /character avatar set. The webhook shows
-- personalities.avatar_url (a URL Discord hosts); the bytes stay here so an export never
-- depends on that URL still working.
CREATE TABLE personality_avatars (
    personality_id uuid PRIMARY KEY REFERENCES personalities(id) ON DELETE CASCADE,
    content_type   text NOT NULL,
    data           bytea NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX personalities_owner ON personalities (owner_id) WHERE owner_id IS NOT NULL;

-- data_exports holds the ZIP of /settings data export between the activity that builds it
-- and the one that sends it, so no workflow payload carries it. run_id makes the build
-- idempotent; delivered_parts lets a retried delivery skip the parts already sent.
CREATE TABLE data_exports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    run_id          text NOT NULL UNIQUE,
    bytes           bytea NOT NULL,
    delivered_parts integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX data_exports_expiry ON data_exports (expires_at);

-- data_erasure_steps records each finished step of an erasure with the rows it removed, in
-- the same transaction as the removal: a step retried after a crash reports the count it
-- already had instead of zero. Deliberately no reference to users: the user row goes too.
CREATE TABLE data_erasure_steps (
    run_id   text NOT NULL,
    step     text NOT NULL,
    rows     bigint NOT NULL,
    done_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step)
);

-- +goose Down
DROP TABLE data_erasure_steps, data_exports, personality_avatars;
DROP INDEX personalities_owner;
