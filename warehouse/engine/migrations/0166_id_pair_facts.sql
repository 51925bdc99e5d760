-- Segment and score facts per pair of ids (anonymous id, user id, channel),
-- folded from the events so a run combines them per person without reading
-- every event again (``warehouse.queries.segments``). The columns are those
-- ``person_facts`` gathers per pair; carts added after the pair's last order
-- are kept as two arrays, values and times. A full fold starts a generation;
-- later runs refold the pairs with events received since (a tombstone,
-- deleted = 1, for each of their rows, then their rows again under a higher
-- version). Read with FINAL.
CREATE TABLE IF NOT EXISTS id_pair_facts $ON_CLUSTER (
    site_id String,
    generation UInt64,
    anonymous_id String,
    user_id String,
    channel_id UInt8,
    seen_from DateTime('UTC'),
    seen_to DateTime('UTC'),
    days Array(Date),
    views UInt64,
    adds UInt64,
    order_keys Array(String),
    sales Float64,
    deal_keys Array(String),
    first_order DateTime('UTC'),
    last_order DateTime('UTC'),
    last_cart DateTime('UTC'),
    cart_values Array(Float64),
    cart_times Array(DateTime('UTC')),
    deleted UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, generation, anonymous_id, user_id, channel_id);
