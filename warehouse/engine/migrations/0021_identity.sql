-- Evidence that two identities ("anon:…", "user:…", "email:<sha256>") are one
-- person, with the message that showed it. Re-extracted pairs collapse.
CREATE TABLE IF NOT EXISTS identity_links $ON_CLUSTER (
    site_id String,
    a String,
    b String,
    reason String,
    message_id String,
    at DateTime('UTC')
) ENGINE = ReplacingMergeTree()
ORDER BY (site_id, a, b, reason);

-- The versioned identity map: a new row only when an identity's person or
-- reason changes; the current map is argMax(…, version), an older one is the
-- same read with version <= a past run's version.
CREATE TABLE IF NOT EXISTS identity_map $ON_CLUSTER (
    site_id String,
    identity String,
    person_id String,
    via String,
    reason String,
    message_id String,
    linked_at DateTime('UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, identity);

-- Manual merges and unmerges: the operator's decisions, kept as an audit trail
-- and read by every stitching run (the latest action on a pair wins).
CREATE TABLE IF NOT EXISTS identity_overrides $ON_CLUSTER (
    site_id String,
    a String,
    b String,
    action $LC_STRING,
    actor String,
    note String,
    at DateTime('UTC'),
    version UInt64
) ENGINE = MergeTree()
ORDER BY (site_id, at, version);
