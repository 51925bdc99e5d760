-- The dashboard's rollup in quarter hours of UTC instead of UTC days, so that
-- a site's day is whatever its time zone makes it: every zone's midnight falls
-- on a quarter hour (Tehran's +03:30, Kathmandu's +05:45), so a local day is a
-- whole number of slots and the queries date each slot in the site's zone.
-- Changing a site's zone needs no rebuild. Otherwise as visit_days (0060,
-- 0071): one row per visitor and slot, per insert block, aggregated on read;
-- `starts`/`ends` are the slot's bursts of activity (events at most 30 minutes
-- apart), which the visit count merges across slots and ids; `order_keys` (the
-- hashed order ids) count an order once however many slots repeat it.
CREATE TABLE IF NOT EXISTS visit_slots $ON_CLUSTER (
    site_id String,
    slot DateTime('UTC'),
    anonymous_id String,
    user_id String,
    identity_key UInt64,
    raw_key UInt64,
    event_count UInt64,
    order_count UInt64,
    order_keys Array(UInt64),
    order_revenue Float64,
    feedback_scores Array(Float64),
    starts Array(UInt32),
    ends Array(UInt32),
    progress AggregateFunction(windowFunnel(604800), DateTime('UTC'), UInt8, UInt8, UInt8, UInt8)
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(slot)
ORDER BY (site_id, slot, identity_key);

CREATE MATERIALIZED VIEW IF NOT EXISTS visit_slots_mv $ON_CLUSTER TO visit_slots AS
SELECT site_id, toStartOfFifteenMinutes(timestamp) AS slot, anonymous_id, user_id,
       cityHash64(multiIf(user_id = '' OR has(flags, 'claimed'), concat('anon:', anonymous_id),
                          has(flags, 'imported') AND NOT has(flags, 'web_ids'), concat('customer:', user_id),
                          concat('user:', user_id))) AS identity_key,
       cityHash64(if(user_id != '' AND NOT has(flags, 'claimed'), user_id, anonymous_id)) AS raw_key,
       count() AS event_count,
       uniqExactIf(if(order_id != '', order_id, message_id), event = 'Order Completed') AS order_count,
       groupUniqArrayIf(cityHash64(if(order_id != '', order_id, message_id)), event = 'Order Completed') AS order_keys,
       sumIf(revenue, event = 'Order Completed') AS order_revenue,
       groupArrayIf(assumeNotNull(score), event = 'Feedback Submitted' AND score IS NOT NULL) AS feedback_scores,
       arrayFilter((t, p) -> t - p > 1800, arraySort(groupArray(toUInt32(timestamp))) AS times,
                   arrayPushFront(arrayPopBack(times), toUInt32(0))) AS starts,
       arrayFilter((t, n) -> n - t > 1800, times, arrayPushBack(arrayPopFront(times), toUInt32(4294967295))) AS ends,
       windowFunnelState(604800)(timestamp, event = 'Product Viewed', event = 'Product Added',
                                 event = 'Checkout Started', event = 'Order Completed') AS progress
FROM events
WHERE is_bot = 0
GROUP BY site_id, slot, anonymous_id, user_id, identity_key, raw_key;

BACKFILL visit_slots_mv;

-- visit_days (UTC days) is superseded: stop keeping it. (Over a cluster its rows
-- live in visit_days_local, under the Distributed table of the old name.)
DROP TABLE IF EXISTS visit_days_mv $ON_CLUSTER;
DROP TABLE IF EXISTS visit_days $ON_CLUSTER;
DROP TABLE IF EXISTS visit_days_local $ON_CLUSTER;
