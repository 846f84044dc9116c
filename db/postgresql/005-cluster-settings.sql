-- ReviewOrleans' own table (not Orleans'): the settings that every silo and standalone gateway of one service must
-- share, because they decide where a review goes. The first process of a service records them; every later one
-- compares its own and stops on a difference (ReviewOrleans.Database.ClusterSettings).
CREATE TABLE IF NOT EXISTS revieworleans_cluster_settings
(
    service_id text NOT NULL PRIMARY KEY,
    partitions integer NOT NULL,
    anomaly_shards integer NOT NULL,
    stream_queues integer NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
