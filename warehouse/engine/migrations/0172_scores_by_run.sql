-- The other versioned model tables keep each run in a partition of its own too,
-- as 0168 did for the largest two: pruning old versions drops whole parts
-- (``versions.delete_versions``) instead of a mutation that rewrites them, which
-- cost most of an incremental run's pruning on the scores alone.
CREATE TABLE IF NOT EXISTS person_scores_by_run $ON_CLUSTER AS person_scores
ENGINE = MergeTree()
PARTITION BY model_version
ORDER BY (site_id, model_version, person_id);

REWRITE person_scores AS person_scores_by_run;

CREATE TABLE IF NOT EXISTS rec_sessions_by_run $ON_CLUSTER AS rec_sessions
ENGINE = MergeTree()
PARTITION BY model_version
ORDER BY (site_id, model_version, session_id);

REWRITE rec_sessions AS rec_sessions_by_run;

CREATE TABLE IF NOT EXISTS rec_popularity_by_run $ON_CLUSTER AS rec_popularity
ENGINE = MergeTree()
PARTITION BY model_version
ORDER BY (site_id, model_version, context);

REWRITE rec_popularity AS rec_popularity_by_run;
