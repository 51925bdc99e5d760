-- Every version of the identity map, kept. identity_map keeps only an identity's newest row once
-- ClickHouse merges its parts, so the map as it stood at an earlier run is read from here.
CREATE TABLE IF NOT EXISTS identity_history $ON_CLUSTER (
    site_id String,
    identity String,
    person_id String,
    via String,
    reason String,
    message_id String,
    linked_at DateTime('UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree()
ORDER BY (site_id, identity, version);

CREATE MATERIALIZED VIEW IF NOT EXISTS identity_history_mv $ON_CLUSTER TO identity_history
AS SELECT site_id, identity, person_id, via, reason, message_id, linked_at, version FROM identity_map;

BACKFILL identity_history_mv
