-- Sites and their keys. Mutable state: a new version per change, read with argMax.
CREATE TABLE IF NOT EXISTS sites $ON_CLUSTER (
    site_id String,
    name String,
    domains Array(String),
    write_key String,
    public_key String,
    created_at DateTime('UTC'),
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY site_id;
