-- Daily activity per visitor, kept at insert time by a materialized view, so
-- dashboard panels that only need per-day counts read thousands of rows
-- instead of every event. Rows are summed on merge; read with sum() GROUP BY.
-- Both ids are kept so the person can still be resolved at query time.
CREATE TABLE IF NOT EXISTS activity_days $ON_CLUSTER (
    site_id $LC_STRING,
    date Date,
    anonymous_id String,
    user_id String,
    event_count UInt64,
    order_count UInt64,
    order_revenue Float64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, anonymous_id, user_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS activity_days_mv $ON_CLUSTER TO activity_days AS
SELECT site_id, toDate(timestamp) AS date, anonymous_id, user_id,
       count() AS event_count,
       uniqExactIf(if(order_id != '', order_id, message_id), event = 'Order Completed') AS order_count,
       sumIf(revenue, event = 'Order Completed') AS order_revenue
FROM events
WHERE is_bot = 0
GROUP BY site_id, date, anonymous_id, user_id;

-- Events stored before this migration.
BACKFILL activity_days_mv;
