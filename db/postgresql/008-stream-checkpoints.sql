-- Where each Event Hubs partition of Ingest:EventHubs has been read to (ReviewOrleans.Hosting.Ingestion.
-- SqlStreamCheckpointStore), instead of the Azure Table Orleans' provider uses by default: the offset of the last event
-- released from the receivers' cache, and a version that every update must name (two silos never overwrite each
-- other's newer checkpoint).
CREATE TABLE IF NOT EXISTS revieworleans_stream_checkpoints
(
    service_id text NOT NULL,
    provider text NOT NULL,
    partition text NOT NULL,
    checkpoint text NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (service_id, provider, partition)
);
