-- As mining_rows, for the segments' first-run backfill: the site's events as
-- the facts read them, each in the bucket of its person, one partition per
-- run (warehouse.queries.segments).
CREATE TABLE IF NOT EXISTS fact_rows $ON_CLUSTER (
    site_id String,
    run UInt64,
    bucket UInt16,
    anonymous_id String,
    user_id String,
    channel_id UInt8,
    timestamp DateTime('UTC'),
    event $LC_STRING,
    order_key String,
    revenue Float64,
    deal UInt8,
    line_value Float64
) ENGINE = MergeTree()
PARTITION BY run
ORDER BY (site_id, run, bucket);
