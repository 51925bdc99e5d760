-- The identity map again, sorted by person, so a profile finds its identities
-- with one primary-key lookup instead of reading the whole site's map.
CREATE TABLE IF NOT EXISTS identity_by_person $ON_CLUSTER (
    site_id String,
    person_id String,
    identity String,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, person_id, identity);

CREATE MATERIALIZED VIEW IF NOT EXISTS identity_by_person_mv $ON_CLUSTER TO identity_by_person
AS SELECT site_id, person_id, identity, version FROM identity_map;
