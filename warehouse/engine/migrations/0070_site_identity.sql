-- Identity verification, per site. `server_key` (sk_…) authenticates server-side libraries, whose
-- events are trusted; `identity_secret` (is_…) is what a store's server signs its user ids with (the
-- userHash the tracker passes along); `trust_unsigned` = 1 takes browser identifies on trust, as
-- before this existed. Versioned like `sites` (read with argMax), in a table of its own: ClickHouse
-- 18.16 cannot ALTER the Distributed `sites` table of a cluster. A site without a row here (made
-- before it existed) has neither key until an admin creates them on the settings page.
CREATE TABLE IF NOT EXISTS site_identity $ON_CLUSTER (
    site_id String,
    server_key String,
    identity_secret String,
    trust_unsigned UInt8,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY site_id;
