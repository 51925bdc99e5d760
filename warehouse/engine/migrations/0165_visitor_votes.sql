-- Each visitor's interactions with each product, folded for popularity: the
-- first and last time (unix seconds, 0 for none) of each kind, from which a
-- visitor's vote is exact for any reference time and trending cut (the decay
-- is largest at a kind's last time; "recent" asks whether its last time is
-- after the cut, "older" whether its first time is before it). A full fold
-- starts a generation; later runs refold the visitors with events received
-- since (a tombstone, deleted = 1, for each of their rows, then their rows
-- again under a higher version), and those whose first interaction has left
-- the window. Read with FINAL.
CREATE TABLE IF NOT EXISTS rec_visitor_votes $ON_CLUSTER (
    site_id String,
    generation UInt64,
    visitor_id String,
    item_id String,
    first_view UInt32,
    last_view UInt32,
    first_cart UInt32,
    last_cart UInt32,
    first_purchase UInt32,
    last_purchase UInt32,
    first_seen DateTime('UTC'),
    last_seen DateTime('UTC'),
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, generation, visitor_id, item_id);
