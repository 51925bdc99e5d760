-- API tokens of admin users. Only a SHA-256 of the token is stored; the token itself is shown once.
-- Mutable state (revocation, last use): a new version per change, read with argMax.
CREATE TABLE IF NOT EXISTS api_tokens $ON_CLUSTER (
    token_id String,
    user_id String,
    token_hash String,
    label String,
    created_at DateTime('UTC'),
    revoked UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, token_id);
