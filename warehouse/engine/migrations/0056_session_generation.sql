-- Every sign-in session carries its user's session generation, checked on each request; raising it
-- (sign-out, password change or reset, deactivation) ends all of that user's sessions at once.
-- It only grows, so it is read with max(): a concurrent edit written from an older read cannot bring
-- ended sessions back. A table of its own: an old server cannot ALTER a cluster's users table.
CREATE TABLE IF NOT EXISTS user_sessions $ON_CLUSTER (
    user_id String,
    session_generation UInt32,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id;
