-- Popular items per site, one versioned result per job run.
CREATE TABLE IF NOT EXISTS item_popularity $ON_CLUSTER (
    site_id String,
    model_version UInt64,
    item_id String,
    views UInt64,
    carts UInt64,
    orders UInt64,
    score Float64,
    computed_at DateTime('UTC')
) ENGINE = MergeTree()
ORDER BY (site_id, model_version, item_id);
