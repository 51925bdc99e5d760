-- Webhooks told when a person enters or leaves a segment; mutable, read with argMax.
CREATE TABLE IF NOT EXISTS segment_webhooks $ON_CLUSTER (
    site_id String,
    webhook_id String,
    url String,
    secret String,
    segments Array(String),
    created_at DateTime('UTC'),
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, webhook_id);

-- One row per delivery (a batch of segment moves, retried a bounded number of times).
CREATE TABLE IF NOT EXISTS webhook_deliveries $ON_CLUSTER (
    site_id String,
    webhook_id String,
    delivery_id String,
    events UInt32,
    status UInt16,
    attempts UInt8,
    error String,
    sent_at DateTime('UTC')
) ENGINE = MergeTree()
ORDER BY (site_id, webhook_id, sent_at);

-- Segments defined by an admin from conditions (JSON list), mutable.
CREATE TABLE IF NOT EXISTS custom_segments $ON_CLUSTER (
    site_id String,
    name String,
    conditions String,
    created_at DateTime('UTC'),
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, name);
