-- Visits, one row per (visitor, start). Recomputing a visitor's open visit
-- writes a higher version; a visit that no longer exists (a late event joined
-- it to another) gets a tombstone (deleted = 1). Read with FINAL or argMax.
CREATE TABLE IF NOT EXISTS sessions $ON_CLUSTER (
    site_id String,
    visitor_id String,
    started_at DateTime('UTC'),
    ended_at DateTime('UTC'),
    duration_seconds UInt32,
    events UInt32,
    pageviews UInt32,
    landing_page String,
    referrer String,
    source String,
    utm_source String,
    utm_medium String,
    utm_campaign String,
    device String,
    user_ids Array(String),
    pages Array(String),
    products_viewed Array(String),
    cart_adds UInt32,
    cart_value Float64,
    checkouts UInt32,
    orders UInt32,
    revenue Float64,
    order_ids Array(String),
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, visitor_id, started_at);

-- Where each incremental job stopped, per site: mutable state read with argMax.
CREATE TABLE IF NOT EXISTS job_marks $ON_CLUSTER (
    site_id String,
    job String,
    high_water DateTime('UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, job);
