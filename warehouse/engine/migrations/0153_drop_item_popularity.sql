-- item_popularity (0003) is no longer written and nothing reads it: popularity
-- by context lives in rec_popularity. (Over a cluster its rows live in
-- item_popularity_local, under the Distributed table of the old name.)
DROP TABLE IF EXISTS item_popularity $ON_CLUSTER;
DROP TABLE IF EXISTS item_popularity_local $ON_CLUSTER;
