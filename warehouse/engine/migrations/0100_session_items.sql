-- Each visit's products, folded from the events by the mining jobs and read by
-- co-occurrence, the session-kNN index and the basket rules, so none of them
-- reads raw events. Visits are the product's (``sessions``). A full fold
-- starts a new generation; later runs refold only the visitors with new
-- events: a tombstone (deleted = 1) for each of their visits, then the visits
-- again under a higher version. Read with FINAL.
CREATE TABLE IF NOT EXISTS rec_session_items $ON_CLUSTER (
    site_id String,
    generation UInt64,
    visitor_id String,
    session_id String,
    last_seen DateTime('UTC'),
    items Array(String),
    views Array(String),
    purchases Array(String),
    carts Array(String),
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, generation, visitor_id, session_id);

-- Co-occurrence weights summed over the folded visits (pairs, and each
-- product's own weight under relation 'viewed' or 'bought' with neighbor_id
-- ''). A refolded visit's old weights are added back negated, so the sums
-- stay those of the current visits. Weights are 2^(age/half-life) against
-- the generation's start: a common factor, which the cosine cancels.
CREATE TABLE IF NOT EXISTS rec_pair_weights $ON_CLUSTER (
    site_id String,
    generation UInt64,
    relation String,
    item_id String,
    neighbor_id String,
    weight Float64
) ENGINE = SummingMergeTree(weight)
ORDER BY (site_id, generation, relation, item_id, neighbor_id);

-- Where the folding stopped, per site: its generation and the receive time
-- of the last events folded.
CREATE TABLE IF NOT EXISTS mining_marks $ON_CLUSTER (
    site_id String,
    job String,
    generation UInt64,
    high_water DateTime('UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, job);
