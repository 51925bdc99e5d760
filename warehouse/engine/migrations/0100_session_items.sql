-- Each visit's products, folded once from the events by the mining jobs and
-- read by co-occurrence, the session-kNN index and the basket rules, so none
-- of them reads raw events. Visits are the product's (``sessions``); a run
-- writes a new version and older ones are pruned.
CREATE TABLE IF NOT EXISTS rec_session_items $ON_CLUSTER (
    site_id String,
    version UInt64,
    session_id String,
    last_seen DateTime('UTC'),
    items Array(String),
    views Array(String),
    purchases Array(String),
    carts Array(String)
) ENGINE = MergeTree()
ORDER BY (site_id, version, session_id);
