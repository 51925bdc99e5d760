-- Messages that parsed but broke the schema, kept with the reason and the raw
-- message so an operator can see what a sender got wrong and replay them.
-- Replaying writes a new version of the row with replayed = 1.
CREATE TABLE IF NOT EXISTS quarantine $ON_CLUSTER (
    site_id String,
    quarantine_id String,
    received_at DateTime('UTC'),
    reason String,
    detail String,
    raw String,
    ip String,
    user_agent String,
    replayed UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(received_at)
ORDER BY (site_id, quarantine_id);
