-- Offline evaluations in both protocols (``basirat evaluate``, and the weekly
-- evaluation of each site on its own sessions): one row per protocol and
-- strategy per run, with bootstrap 95% intervals and the data's size. A
-- reference data set is stored with an empty site_id.
CREATE TABLE IF NOT EXISTS rec_offline_results $ON_CLUSTER (
    site_id String,
    run_id UInt64,
    evaluated_at DateTime('UTC'),
    dataset String,
    protocol String,
    strategy String,
    shipped UInt8,
    hr Float64,
    hr_low Float64,
    hr_high Float64,
    mrr Float64,
    mrr_low Float64,
    mrr_high Float64,
    coverage Float64,
    popularity Float64,
    predictions UInt64,
    train_sessions UInt64,
    test_sessions UInt64,
    seconds Float64
) ENGINE = MergeTree()
ORDER BY (site_id, run_id, protocol, strategy);
