-- visit_slots keeps each id's bursts of activity at a one-minute grain (events
-- at most 60 s apart) instead of the 30 minutes it had baked in, so the visit
-- gap is chosen when the panels are read: SESSION_TIMEOUT_MINUTES, the same
-- setting that cuts the visits of the sessions job. Bursts cut at one minute
-- join into the visits of any gap of a minute or more (kpis.sessions). The
-- rows are recomputed from the stored events into a new table, which takes
-- the name. Otherwise as 0120.
DROP TABLE IF EXISTS visit_slots_mv $ON_CLUSTER;

CREATE TABLE IF NOT EXISTS visit_slots_by_minute $ON_CLUSTER AS visit_slots
ENGINE = MergeTree()
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
       arrayFilter((t, p) -> t - p > 60, arraySort(groupArray(toUInt32(timestamp))) AS times,
                   arrayPushFront(arrayPopBack(times), toUInt32(0))) AS starts,
       arrayFilter((t, n) -> n - t > 60, times, arrayPushBack(arrayPopFront(times), toUInt32(4294967295))) AS ends,
       windowFunnelState(604800)(timestamp, event = 'Product Viewed', event = 'Product Added',
                                 event = 'Checkout Started', event = 'Order Completed') AS progress
FROM events
WHERE is_bot = 0
GROUP BY site_id, slot, anonymous_id, user_id, identity_key, raw_key;

REWRITE visit_slots AS visit_slots_by_minute FROM visit_slots_mv;
