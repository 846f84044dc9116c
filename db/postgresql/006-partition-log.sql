-- ReviewOrleans' own tables: each review partition's durable log (ReviewOrleans.Grains.IPartitionLog). A partition
-- appends one row to each table per stream batch, in one transaction, before the stream counts the batch as handled.
--   ids:     the batch's accepted review-id hashes and its batch id's (little-endian 64-bit integers), kept for
--            Pipeline:DedupHorizon, so that a new activation recognises re-sent reviews and replayed batches;
--   effects: the batch's effects on the receivers (an Orleans-serialised PartitionLogEntry), kept until every
--            receiver with a part in it has saved that part.
-- The primary keys fence out a second activation of the same partition during a failover: its append conflicts.
CREATE TABLE IF NOT EXISTS revieworleans_partition_ids
(
    service_id text NOT NULL,
    partition integer NOT NULL,
    sequence bigint NOT NULL,
    at_ms bigint NOT NULL,
    id_hashes bytea NOT NULL,
    PRIMARY KEY (service_id, partition, sequence)
);

CREATE TABLE IF NOT EXISTS revieworleans_partition_effects
(
    service_id text NOT NULL,
    partition integer NOT NULL,
    sequence bigint NOT NULL,
    body bytea NOT NULL,
    PRIMARY KEY (service_id, partition, sequence)
);
