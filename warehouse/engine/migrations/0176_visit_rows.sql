-- As mining_rows, for a full sessions run: the site's events with what the
-- visits are made of, sorted by a bucket of the visitor, one partition per run
-- (warehouse.queries.sessions).
CREATE TABLE IF NOT EXISTS visit_rows $ON_CLUSTER (
    site_id String,
    run UInt64,
    bucket UInt16,
    visitor_id String,
    timestamp DateTime('UTC'),
    t UInt64,
    kind UInt8,
    c UInt64,
    user_agent String,
    page String,
    referrer String,
    utm_source $LC_STRING,
    utm_medium $LC_STRING,
    utm_campaign String,
    user_id String,
    product_id String,
    line_value Float64,
    order_id String,
    revenue Float64
) ENGINE = MergeTree()
PARTITION BY run
ORDER BY (site_id, run, bucket);
