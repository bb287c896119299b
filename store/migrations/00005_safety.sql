-- +goose Up
-- Community safety. A server may restrict where characters answer: in "allow" mode only in
-- the listed channels, in "deny" mode everywhere but them. No row means no restriction.
-- The channel list outlives the mode, so turning a restriction off and on again keeps it.
CREATE TABLE guild_restrictions (
    guild_id   text PRIMARY KEY,
    mode       text NOT NULL CHECK (mode IN ('allow', 'deny')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE guild_restricted_channels (
    guild_id   text NOT NULL,
    channel_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (guild_id, channel_id)
);

-- A user is verified for NSFW characters the first time they use the bot in an
-- age-restricted channel (Discord checked their age to let them in).
ALTER TABLE users ADD COLUMN nsfw_verified_at timestamptz;

-- +goose Down
ALTER TABLE users DROP COLUMN nsfw_verified_at;
DROP TABLE guild_restricted_channels, guild_restrictions;
