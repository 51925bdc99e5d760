-- A full mining run's interactions, copied once and sorted by a bucket of a
-- hash of whom they belong to (the visitor, or the stitched person), so that
-- each part of the run reads its own range of buckets, not every event. One
-- partition per run, dropped when the run ends (warehouse.queries.mining_rows).
-- The key is in visitor_id or person_id, the other is empty: erasure finds
-- both columns by name.
CREATE TABLE IF NOT EXISTS mining_rows $ON_CLUSTER (
    site_id String,
    run UInt64,
    bucket UInt16,
    visitor_id String,
    person_id String,
    item_id String,
    kind $LC_STRING,
    time UInt32
) ENGINE = MergeTree()
PARTITION BY run
ORDER BY (site_id, run, bucket);
