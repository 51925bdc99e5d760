-- A/B tests of recommendation strategies: a site's current experiment (its
-- newest version wins) and, per answer served under it, the arm the
-- visitor's browser id was hashed to. Kept beside rec_served rather than as a
-- new column of it, which the oldest servers cannot add on a cluster.
CREATE TABLE IF NOT EXISTS rec_experiments $ON_CLUSTER (
    site_id String,
    name String,
    arms Array(String),
    started_at DateTime('UTC'),
    active UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id);

CREATE TABLE IF NOT EXISTS rec_served_arms $ON_CLUSTER (
    site_id String,
    recommendation_id String,
    served_at DateTime('UTC'),
    experiment String,
    arm String
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(served_at)
ORDER BY (site_id, experiment, recommendation_id);
