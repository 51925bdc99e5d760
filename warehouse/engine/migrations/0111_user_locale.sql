-- The language each admin user chose for the admin (en, fa, ...); empty follows the browser.
-- Versioned, read with argMax; its own table so a cluster on ClickHouse 18.16 needs no ALTER.
CREATE TABLE IF NOT EXISTS user_locale $ON_CLUSTER (
    user_id String,
    locale String,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id;
