-- The largest model tables keep each run's rows in a partition of their own:
-- pruning a site's old versions then drops whole parts, where rows of every
-- version in one part had the kept versions' rows rewritten (13M of them for
-- the per-person model of a 10M-event store, at each prune).
CREATE TABLE IF NOT EXISTS rec_person_items_by_run $ON_CLUSTER AS rec_person_items
ENGINE = MergeTree()
PARTITION BY model_version
ORDER BY (site_id, model_version, person_id);

REWRITE rec_person_items AS rec_person_items_by_run;

CREATE TABLE IF NOT EXISTS rec_item_neighbors_by_run $ON_CLUSTER AS rec_item_neighbors
ENGINE = MergeTree()
PARTITION BY model_version
ORDER BY (site_id, model_version, relation, item_id);

REWRITE rec_item_neighbors AS rec_item_neighbors_by_run;
