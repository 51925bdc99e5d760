-- Segment membership with its history: one row per stay of a person in a
-- segment. A stay opens with left_at at the epoch (still a member) and is
-- closed by writing the same key again with a later version and left_at set.
CREATE TABLE IF NOT EXISTS segment_members $ON_CLUSTER (
    site_id String,
    segment String,
    person_id String,
    entered_at DateTime('UTC'),
    left_at DateTime('UTC'),
    value Float64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, segment, person_id, entered_at);

-- Scores per person, one versioned result per job run (as item_popularity).
CREATE TABLE IF NOT EXISTS person_scores $ON_CLUSTER (
    site_id String,
    model_version UInt64,
    person_id String,
    orders UInt32,
    historic_value Float64,
    predicted_purchases Nullable(Float64),
    predicted_value Nullable(Float64),
    p_alive Nullable(Float64),
    churn_risk Nullable(Float64),
    satisfaction Nullable(Float64),
    recency_score UInt8,
    frequency_score UInt8,
    monetary_score UInt8,
    feedback_count UInt32,
    computed_at DateTime('UTC')
) ENGINE = MergeTree()
ORDER BY (site_id, model_version, person_id);
