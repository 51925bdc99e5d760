-- Webhook deliveries are a log, kept by month like the serving log
-- (rec_served, rec_served_arms): BASIRAT_RETENTION_DAYS expires them (a TTL,
-- or the daily delete), and old months go as whole parts. A partition key
-- cannot be added in place: the rows are copied into a partitioned table,
-- which takes the name.
CREATE TABLE IF NOT EXISTS webhook_deliveries_by_month $ON_CLUSTER AS webhook_deliveries
ENGINE = MergeTree()
PARTITION BY toYYYYMM(sent_at)
ORDER BY (site_id, webhook_id, sent_at);

REWRITE webhook_deliveries AS webhook_deliveries_by_month;
