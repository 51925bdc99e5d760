-- The segments' first-run backfill's facts per pair of ids and day: the
-- copied events (fact_rows) folded by the day before the site's latest event
-- they fall in, all older ones in one row. A past day's facts are those of
-- its rows and earlier ones, so each of the 30 days reads these rather than
-- every event. Columns as id_pair_facts; one partition per run
-- (warehouse.queries.segments).
CREATE TABLE IF NOT EXISTS fact_days $ON_CLUSTER (
    site_id String,
    run UInt64,
    bucket UInt16,
    anonymous_id String,
    user_id String,
    channel_id UInt8,
    upto DateTime('UTC'),
    seen_from DateTime('UTC'),
    seen_to DateTime('UTC'),
    days Array(Date),
    views UInt64,
    adds UInt64,
    order_keys Array(String),
    sales Float64,
    deal_keys Array(String),
    first_order DateTime('UTC'),
    last_order DateTime('UTC'),
    last_cart DateTime('UTC'),
    cart_values Array(Float64),
    cart_times Array(DateTime('UTC'))
) ENGINE = MergeTree()
PARTITION BY run
ORDER BY (site_id, run, bucket);
