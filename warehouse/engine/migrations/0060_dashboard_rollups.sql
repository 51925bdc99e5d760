-- Each visitor's day as the dashboard needs it (counts, feedback scores), kept at insert time so the
-- panels read one row per visitor and day instead of every event. The ids are
-- also kept hashed: `identity_key` of the row's identity as the identity map
-- names it (user id, an imported channel's customer id, else anonymous id) and
-- `raw_key` of the id that stands for the person until the map knows it, so
-- people are resolved with a join on numbers. `starts`/`ends` are the day's
-- bursts of activity (events at most 30 minutes apart), enough to count visits
-- exactly once the bursts of a person's ids are merged; `progress` holds the
-- product view -> cart -> checkout -> order steps as a windowFunnel state
-- (7-day window), merged per person when read. Rows are per insert block and
-- never collapse; readers aggregate. The steps, gap and window are those of
-- warehouse/kpis.py.
CREATE TABLE IF NOT EXISTS visit_days $ON_CLUSTER (
    site_id String,
    date Date,
    anonymous_id String,
    user_id String,
    identity_key UInt64,
    raw_key UInt64,
    event_count UInt64,
    order_count UInt64,
    order_revenue Float64,
    feedback_scores Array(Float64),
    starts Array(UInt32),
    ends Array(UInt32),
    progress AggregateFunction(windowFunnel(604800), DateTime('UTC'), UInt8, UInt8, UInt8, UInt8)
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, identity_key);

CREATE MATERIALIZED VIEW IF NOT EXISTS visit_days_mv $ON_CLUSTER TO visit_days AS
SELECT site_id, toDate(timestamp) AS date, anonymous_id, user_id,
       cityHash64(if(user_id = '', concat('anon:', anonymous_id),
                     concat(if(has(flags, 'imported') AND NOT has(flags, 'web_ids'), 'customer:', 'user:'), user_id)))
           AS identity_key,
       cityHash64(if(user_id != '', user_id, anonymous_id)) AS raw_key,
       count() AS event_count,
       uniqExactIf(if(order_id != '', order_id, message_id), event = 'Order Completed') AS order_count,
       sumIf(revenue, event = 'Order Completed') AS order_revenue,
       groupArrayIf(assumeNotNull(score), event = 'Feedback Submitted' AND score IS NOT NULL) AS feedback_scores,
       arrayFilter((t, p) -> t - p > 1800, arraySort(groupArray(toUInt32(timestamp))) AS times,
                   arrayPushFront(arrayPopBack(times), toUInt32(0))) AS starts,
       arrayFilter((t, n) -> n - t > 1800, times, arrayPushBack(arrayPopFront(times), toUInt32(4294967295))) AS ends,
       windowFunnelState(604800)(timestamp, event = 'Product Viewed', event = 'Product Added',
                                 event = 'Checkout Started', event = 'Order Completed') AS progress
FROM events
WHERE is_bot = 0
GROUP BY site_id, date, anonymous_id, user_id, identity_key;

-- Events stored before this migration.
BACKFILL visit_days_mv;

-- Recommendation clicks and orders, the two sides of revenue attribution, kept
-- apart from the other events so the recommendations page and the KPI panel
-- read a few percent of the rows, by event and day through the sort key.
CREATE TABLE IF NOT EXISTS attribution_events $ON_CLUSTER (
    site_id String,
    event String,
    date Date,
    timestamp DateTime('UTC'),
    anonymous_id String,
    user_id String,
    message_id String,
    recommendation_id String,
    item_id String,
    item_ids Array(String),
    item_prices Array(Float64),
    item_quantities Array(UInt32)
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, event, date, anonymous_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS attribution_events_mv $ON_CLUSTER TO attribution_events AS
SELECT site_id, toString(event) AS event, toDate(timestamp) AS date, timestamp, anonymous_id, user_id, message_id,
       visitParamExtractString(properties, 'recommendation_id') AS recommendation_id,
       visitParamExtractString(properties, 'item_id') AS item_id, item_ids, item_prices, item_quantities
FROM events
WHERE is_bot = 0 AND type = 'track' AND event IN ('Recommendation Clicked', 'Order Completed');

BACKFILL attribution_events_mv;
