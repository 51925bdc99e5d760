-- Raw events, one row per accepted Segment message. The sort key keeps a
-- visitor's events together (profiles, sessions) and ends in message_id so a
-- re-delivered message collapses into one row.
CREATE TABLE IF NOT EXISTS events $ON_CLUSTER (
    site_id $LC_STRING,
    message_id String,
    type $LC_STRING,
    event $LC_STRING,
    name String,
    anonymous_id String,
    user_id String,
    previous_id String,
    group_id String,
    timestamp DateTime('UTC'),
    timestamp_ms UInt16,
    original_timestamp DateTime('UTC'),
    sent_at DateTime('UTC'),
    received_at DateTime('UTC'),
    url String,
    path String,
    referrer String,
    title String,
    search String,
    user_agent String,
    ip String,
    locale $LC_STRING,
    utm_source $LC_STRING,
    utm_medium $LC_STRING,
    utm_campaign String,
    utm_term String,
    utm_content String,
    library_name $LC_STRING,
    library_version $LC_STRING,
    properties String,
    traits String,
    context String,
    product_id String,
    product_name String,
    category String,
    price Float64,
    quantity UInt32,
    order_id String,
    revenue Float64,
    currency $LC_STRING,
    query String,
    item_ids Array(String),
    item_prices Array(Float64),
    item_quantities Array(UInt32),
    score Nullable(Float64),
    comment String,
    is_bot UInt8,
    flags Array(String)
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (site_id, anonymous_id, message_id);

-- Every loaded message id, kept by the insert itself, so the loader can drop
-- re-sent messages with one primary-key lookup per batch.
CREATE TABLE IF NOT EXISTS event_ids $ON_CLUSTER (
    site_id String,
    message_id String,
    received_at DateTime('UTC')
) ENGINE = ReplacingMergeTree()
ORDER BY (site_id, message_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS event_ids_mv $ON_CLUSTER TO event_ids
AS SELECT site_id, message_id, received_at FROM events;
