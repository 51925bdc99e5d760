-- A user id a browser only claimed (flag `claimed`, see collector/trust.py) is not the row's
-- identity: visit_days files such a row under its anonymous id, as person_map.py resolves it.
-- Rows kept before this migration stay as they were.
DROP TABLE IF EXISTS visit_days_mv $ON_CLUSTER;

CREATE MATERIALIZED VIEW IF NOT EXISTS visit_days_mv $ON_CLUSTER TO visit_days AS
SELECT site_id, toDate(timestamp) AS date, anonymous_id, user_id,
       cityHash64(multiIf(user_id = '' OR has(flags, 'claimed'), concat('anon:', anonymous_id),
                          has(flags, 'imported') AND NOT has(flags, 'web_ids'), concat('customer:', user_id),
                          concat('user:', user_id))) AS identity_key,
       cityHash64(if(user_id != '' AND NOT has(flags, 'claimed'), user_id, anonymous_id)) AS raw_key,
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
GROUP BY site_id, date, anonymous_id, user_id, identity_key, raw_key;
