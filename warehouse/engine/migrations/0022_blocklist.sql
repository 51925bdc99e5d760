-- Identities erased on request (GDPR): the collector drops their new events.
CREATE TABLE IF NOT EXISTS blocked_identities $ON_CLUSTER (
    site_id String,
    identity String,
    blocked UInt8,
    reason String,
    at DateTime('UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, identity);
