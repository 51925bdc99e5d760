-- Mined recommendation models, one versioned result per job run.
-- Item -> item neighbours of every relation: bought_together (association
-- rules), also_viewed and bought_after_view (session co-occurrence).
CREATE TABLE IF NOT EXISTS rec_item_neighbors $ON_CLUSTER (
    site_id String,
    model_version UInt64,
    relation $LC_STRING,
    item_id String,
    neighbor_id String,
    score Float64,
    support Float64,
    lift Float64
) ENGINE = MergeTree()
ORDER BY (site_id, model_version, relation, item_id);

-- Recent sessions the session-kNN model searches at request time.
CREATE TABLE IF NOT EXISTS rec_sessions $ON_CLUSTER (
    site_id String,
    model_version UInt64,
    session_id String,
    item_ids Array(String),
    last_seen DateTime('UTC')
) ENGINE = MergeTree()
ORDER BY (site_id, model_version, session_id);

-- Per-person recommendations from a person's whole history (every device).
CREATE TABLE IF NOT EXISTS rec_person_items $ON_CLUSTER (
    site_id String,
    model_version UInt64,
    person_id String,
    item_id String,
    score Float64
) ENGINE = MergeTree()
ORDER BY (site_id, model_version, person_id);

-- Popularity by context: overall, per category ("category:<name>") and trending.
CREATE TABLE IF NOT EXISTS rec_popularity $ON_CLUSTER (
    site_id String,
    model_version UInt64,
    context String,
    item_id String,
    score Float64
) ENGINE = MergeTree()
ORDER BY (site_id, model_version, context);

-- Which model versions exist: the endpoint polls this small table.
CREATE TABLE IF NOT EXISTS rec_models $ON_CLUSTER (
    site_id String,
    model $LC_STRING,
    model_version UInt64,
    rows UInt64,
    computed_at DateTime('UTC')
) ENGINE = MergeTree()
ORDER BY (site_id, model, model_version);

-- The catalogue as recommendations see it: category, price, stock. Mutable.
CREATE TABLE IF NOT EXISTS products $ON_CLUSTER (
    site_id String,
    product_id String,
    name String,
    category String,
    price Float64,
    out_of_stock UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, product_id);

-- Every answer of the endpoint, written in batches: recommendation id ->
-- strategy and slot, for click-through and attributed revenue.
CREATE TABLE IF NOT EXISTS rec_served $ON_CLUSTER (
    site_id String,
    recommendation_id String,
    served_at DateTime('UTC'),
    strategy $LC_STRING,
    context $LC_STRING,
    model_version UInt64,
    anonymous_id String,
    user_id String,
    item_ids Array(String)
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(served_at)
ORDER BY (site_id, recommendation_id);

-- Offline evaluations (``basirat evaluate``), one row per strategy per run.
CREATE TABLE IF NOT EXISTS rec_evaluations $ON_CLUSTER (
    run_id UInt64,
    evaluated_at DateTime('UTC'),
    dataset String,
    strategy String,
    shipped UInt8,
    hr Float64,
    mrr Float64,
    coverage Float64,
    popularity Float64,
    predictions UInt64,
    seconds Float64
) ENGINE = MergeTree()
ORDER BY (run_id, strategy);
