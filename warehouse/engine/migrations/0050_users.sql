-- Admin users. Mutable state: a new version per change, read with argMax.
-- site_ids empty means every site for admins and no site for analysts.
CREATE TABLE IF NOT EXISTS users $ON_CLUSTER (
    user_id String,
    email String,
    password_hash String,
    role String,
    site_ids Array(String),
    active UInt8,
    created_at DateTime('UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id;
