-- The events' sort key puts the day right after the site, as Plausible and
-- PostHog do: the live tail, the event log and every read of a date range
-- open the recent granules of a site rather than all of its rows. A visitor's
-- events are still together within each day, and message_id still ends the
-- key so a re-delivered message collapses into one row. A sort key cannot be
-- changed in place: the rows are copied into a table with the new key, which
-- then takes the name (the views reading events are made again over it).
CREATE TABLE IF NOT EXISTS events_by_date $ON_CLUSTER AS events
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(timestamp)
ORDER BY (site_id, toDate(timestamp), anonymous_id, message_id);

REWRITE events AS events_by_date;
