-- The daily rollup activity_days is superseded by visit_days (0060), which the
-- dashboard reads: stop keeping it. (Over a cluster its rows live in
-- activity_days_local, under the Distributed table of the old name.)
DROP TABLE IF EXISTS activity_days_mv $ON_CLUSTER;
DROP TABLE IF EXISTS activity_days $ON_CLUSTER;
DROP TABLE IF EXISTS activity_days_local $ON_CLUSTER;
