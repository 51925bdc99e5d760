-- Counts for the basket rules, kept up to date from the folded visits
-- (rec_session_items) so that a run reads small sums, not every basket. A
-- basket is a visit's carted or bought products, two or more. Summed rows:
-- ('', '') the baskets, (item, '') the baskets holding the item, and
-- (item, neighbor), item < neighbor, the baskets holding both, for the
-- generation's counted products only (rec_basket_items). A visitor refolded
-- since the last run has the counts of their old baskets added back negated
-- (from rec_visitor_baskets), then those of their baskets now.
CREATE TABLE IF NOT EXISTS rec_basket_counts $ON_CLUSTER (
    site_id String,
    generation UInt64,
    item_id String,
    neighbor_id String,
    baskets Int64
) ENGINE = SummingMergeTree(baskets)
ORDER BY (site_id, generation, item_id, neighbor_id);

-- Each visitor's baskets as last counted: what a refold of the visitor takes
-- out of the counts. One row per visitor, replaced whole. Read with FINAL.
CREATE TABLE IF NOT EXISTS rec_visitor_baskets $ON_CLUSTER (
    site_id String,
    generation UInt64,
    visitor_id String,
    baskets Array(Array(String)),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, generation, visitor_id);

-- The products whose pairs a generation counts, chosen when it starts.
CREATE TABLE IF NOT EXISTS rec_basket_items $ON_CLUSTER (
    site_id String,
    generation UInt64,
    item_id String
) ENGINE = MergeTree()
ORDER BY (site_id, generation, item_id);
