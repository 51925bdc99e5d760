-- Customer records imported from a site's sources (a till, a call centre, a newsletter list), one row
-- per source and source id, raw values beside standard ones; a re-import writes a newer version.
CREATE TABLE IF NOT EXISTS customer_records $ON_CLUSTER (
    site_id String,
    source String,
    source_id String,
    verified UInt8,
    raw String,
    first_name String,
    last_name String,
    email String,
    phone String,
    address String,
    city String,
    postcode String,
    country String,
    birth_date String,
    std_first_name String,
    std_last_name String,
    std_email String,
    std_phone String,
    std_address String,
    std_city String,
    std_postcode String,
    std_country String,
    std_birth_date String,
    problems Array(String),
    imported_at DateTime('UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, source, source_id);

-- Each matching run's word on a pair of records: link, review or none, with the evidence.
CREATE TABLE IF NOT EXISTS identity_matches $ON_CLUSTER (
    site_id String,
    a String,
    b String,
    tier String,
    weight Float64,
    probability Float64,
    agree Array(String),
    close Array(String),
    differ Array(String),
    decision String,
    why String,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, a, b);

-- An operator's verdict on a pair from the review queue: accept, reject or unsure.
CREATE TABLE IF NOT EXISTS match_reviews $ON_CLUSTER (
    site_id String,
    a String,
    b String,
    verdict String,
    actor String,
    at DateTime('UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, a, b)
