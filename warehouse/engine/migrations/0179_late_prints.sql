-- Per site and incremental job: a print of the events received in the
-- LATE_EVENTS_MINUTES before its high water, as they stood when the run began
-- (warehouse.queries.late_rows). The next run prints that span again and goes
-- back over it only when the prints differ. A table of its own: an old server
-- cannot ALTER a cluster's marks tables.
CREATE TABLE IF NOT EXISTS late_prints $ON_CLUSTER (
    site_id String,
    job String,
    high_water DateTime('UTC'),
    print UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, job);
