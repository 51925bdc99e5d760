-- How a site shows its figures: the calendar of its dates (gregorian or jalali), the time zone of
-- its days, the currency its orders are recorded in and the unit amounts are shown in (IRR may
-- be shown as tomans). Versioned like `sites` (read with argMax), in a table of its own so a
-- cluster on ClickHouse 18.16 needs no ALTER. A site without a row shows Gregorian UTC days.
CREATE TABLE IF NOT EXISTS site_display $ON_CLUSTER (
    site_id String,
    calendar String,
    timezone String,
    currency String,
    money_unit String,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY site_id;
