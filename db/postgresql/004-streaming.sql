-- Streams: the queue tables, functions and queries that Orleans' ADO.NET stream provider (Microsoft.Orleans.Streaming.
-- AdoNet 10.4.2-alpha.1, invariant "Npgsql", AddAdoNetStreams on silo and client) reads from OrleansQuery. Written for
-- ReviewOrleans from the provider's contract (the parameters it binds, the columns it reads, what its receiver and
-- failure handler expect), not copied from Orleans' scripts. Needs OrleansQuery (001-grain-storage.sql).
--
-- A queue is (ServiceId, ProviderId, QueueId). Producers insert messages; the silo's receiver for a queue dequeues a
-- batch, which bumps each message's Dequeued count (the receipt) and hides it for the visibility timeout; it confirms
-- (deletes) messages by receipt once Orleans' cache has delivered them, or releases them (visible again) on shutdown.
-- Messages dequeued too often, or expired, and no longer hidden are moved to OrleansStreamDeadLetter, which keeps them
-- for the dead-letter removal timeout. The provider never calls the eviction queries itself in 10.4.2-alpha.1:
-- GetStreamMessagesKey runs them for its queue at most once per eviction interval (OrleansStreamControl).
-- Idempotent: tables and indexes are created when missing, functions are replaced, and each query is upserted.

CREATE TABLE IF NOT EXISTS OrleansStreamMessage
(
    ServiceId text NOT NULL,
    ProviderId text NOT NULL,
    QueueId text NOT NULL,
    MessageId bigint GENERATED ALWAYS AS IDENTITY,
    Dequeued integer NOT NULL DEFAULT 0,
    VisibleOn timestamptz NOT NULL,
    ExpiresOn timestamptz NOT NULL,
    CreatedOn timestamptz NOT NULL,
    ModifiedOn timestamptz NOT NULL,
    Payload bytea NOT NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId, MessageId)
)
-- A queue table: rows are inserted, updated once or twice and deleted within seconds, so vacuum it early.
WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02, fillfactor = 90);

CREATE TABLE IF NOT EXISTS OrleansStreamDeadLetter
(
    ServiceId text NOT NULL,
    ProviderId text NOT NULL,
    QueueId text NOT NULL,
    MessageId bigint NOT NULL,
    Dequeued integer NOT NULL,
    VisibleOn timestamptz NOT NULL,
    ExpiresOn timestamptz NOT NULL,
    CreatedOn timestamptz NOT NULL,
    ModifiedOn timestamptz NOT NULL,
    DeadOn timestamptz NOT NULL,
    RemoveOn timestamptz NOT NULL,
    Payload bytea NOT NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId, MessageId)
);

CREATE INDEX IF NOT EXISTS IX_OrleansStreamDeadLetter_RemoveOn
    ON OrleansStreamDeadLetter (ServiceId, ProviderId, QueueId, RemoveOn);

-- When each queue's next eviction is due.
CREATE TABLE IF NOT EXISTS OrleansStreamControl
(
    ServiceId text NOT NULL,
    ProviderId text NOT NULL,
    QueueId text NOT NULL,
    EvictOn timestamptz NOT NULL,
    PRIMARY KEY (ServiceId, ProviderId, QueueId)
);

-- Moves up to p_max_count messages of a queue that are no longer hidden and have either used p_max_attempts dequeues
-- or expired to the dead letters, kept there for p_removal_timeout seconds. Returns how many it moved. Rows another
-- transaction holds are skipped, not waited for.
CREATE OR REPLACE FUNCTION orleans_stream_evict_messages(
    p_service_id text, p_provider_id text, p_queue_id text,
    p_max_count integer, p_max_attempts integer, p_removal_timeout integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_moved integer;
BEGIN
    WITH due AS
    (
        SELECT m.MessageId
        FROM OrleansStreamMessage AS m
        WHERE m.ServiceId = p_service_id AND m.ProviderId = p_provider_id AND m.QueueId = p_queue_id
            AND m.VisibleOn <= now()
            AND (m.Dequeued >= p_max_attempts OR m.ExpiresOn <= now())
        ORDER BY m.MessageId
        LIMIT p_max_count
        FOR UPDATE SKIP LOCKED
    ),
    moved AS
    (
        DELETE FROM OrleansStreamMessage AS m
        USING due AS d
        WHERE m.ServiceId = p_service_id AND m.ProviderId = p_provider_id AND m.QueueId = p_queue_id
            AND m.MessageId = d.MessageId
        RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId, m.Dequeued, m.VisibleOn, m.ExpiresOn,
            m.CreatedOn, m.ModifiedOn, m.Payload
    )
    INSERT INTO OrleansStreamDeadLetter (ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn,
        CreatedOn, ModifiedOn, DeadOn, RemoveOn, Payload)
    SELECT mv.ServiceId, mv.ProviderId, mv.QueueId, mv.MessageId, mv.Dequeued, mv.VisibleOn, mv.ExpiresOn,
        mv.CreatedOn, mv.ModifiedOn, now(), now() + make_interval(secs => p_removal_timeout), mv.Payload
    FROM moved AS mv
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_moved = ROW_COUNT;
    RETURN v_moved;
END
$$;

-- Deletes up to p_max_count dead letters of a queue whose removal time has come. Returns how many it deleted.
CREATE OR REPLACE FUNCTION orleans_stream_evict_dead_letters(
    p_service_id text, p_provider_id text, p_queue_id text, p_max_count integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_deleted integer;
BEGIN
    WITH due AS
    (
        SELECT d.MessageId
        FROM OrleansStreamDeadLetter AS d
        WHERE d.ServiceId = p_service_id AND d.ProviderId = p_provider_id AND d.QueueId = p_queue_id
            AND d.RemoveOn <= now()
        ORDER BY d.MessageId
        LIMIT p_max_count
        FOR UPDATE SKIP LOCKED
    )
    DELETE FROM OrleansStreamDeadLetter AS d
    USING due
    WHERE d.ServiceId = p_service_id AND d.ProviderId = p_provider_id AND d.QueueId = p_queue_id
        AND d.MessageId = due.MessageId;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$$;

-- The receiver's poll of one queue. First, when the queue's eviction is due (at most once per p_eviction_interval
-- seconds, whichever receiver gets there first), runs both evictions with p_eviction_batch_size. Then takes up to
-- p_max_count visible, unexpired messages with fewer than p_max_attempts dequeues, oldest first, skipping rows
-- another transaction holds: each one's Dequeued goes up by one (the receipt its confirmation must quote) and it is
-- hidden for p_visibility_timeout seconds. Returns the taken messages as they now are.
CREATE OR REPLACE FUNCTION orleans_stream_get_messages(
    p_service_id text, p_provider_id text, p_queue_id text,
    p_max_count integer, p_max_attempts integer, p_visibility_timeout integer,
    p_removal_timeout integer, p_eviction_interval integer, p_eviction_batch_size integer)
RETURNS TABLE (ServiceId text, ProviderId text, QueueId text, MessageId bigint, Dequeued integer,
    VisibleOn timestamptz, ExpiresOn timestamptz, CreatedOn timestamptz, ModifiedOn timestamptz, Payload bytea)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_evict_on timestamptz;
    v_due integer;
BEGIN
    SELECT c.EvictOn INTO v_evict_on
    FROM OrleansStreamControl AS c
    WHERE c.ServiceId = p_service_id AND c.ProviderId = p_provider_id AND c.QueueId = p_queue_id;

    IF v_evict_on IS NULL OR v_evict_on <= now() THEN
        -- Only the caller that moves EvictOn forward evicts; a concurrent one finds it moved and does not.
        INSERT INTO OrleansStreamControl AS c (ServiceId, ProviderId, QueueId, EvictOn)
        VALUES (p_service_id, p_provider_id, p_queue_id, now() + make_interval(secs => p_eviction_interval))
        ON CONFLICT (ServiceId, ProviderId, QueueId) DO UPDATE SET EvictOn = excluded.EvictOn
        WHERE c.EvictOn <= now();
        GET DIAGNOSTICS v_due = ROW_COUNT;
        IF v_due > 0 THEN
            PERFORM orleans_stream_evict_messages(p_service_id, p_provider_id, p_queue_id,
                p_eviction_batch_size, p_max_attempts, p_removal_timeout);
            PERFORM orleans_stream_evict_dead_letters(p_service_id, p_provider_id, p_queue_id, p_eviction_batch_size);
        END IF;
    END IF;

    RETURN QUERY
    WITH batch AS
    (
        SELECT m.MessageId
        FROM OrleansStreamMessage AS m
        WHERE m.ServiceId = p_service_id AND m.ProviderId = p_provider_id AND m.QueueId = p_queue_id
            AND m.VisibleOn <= now() AND m.ExpiresOn > now() AND m.Dequeued < p_max_attempts
        ORDER BY m.MessageId
        LIMIT p_max_count
        FOR UPDATE SKIP LOCKED
    )
    UPDATE OrleansStreamMessage AS m
    SET Dequeued = m.Dequeued + 1,
        VisibleOn = now() + make_interval(secs => p_visibility_timeout),
        ModifiedOn = now()
    FROM batch AS b
    WHERE m.ServiceId = p_service_id AND m.ProviderId = p_provider_id AND m.QueueId = p_queue_id
        AND m.MessageId = b.MessageId
    RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId, m.Dequeued, m.VisibleOn, m.ExpiresOn,
        m.CreatedOn, m.ModifiedOn, m.Payload;
END
$$;

-- Appends one message (a serialized batch) to a queue, visible at once and expiring after @ExpiryTimeout seconds;
-- returns its key.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('QueueStreamMessageKey', $q$
INSERT INTO OrleansStreamMessage (ServiceId, ProviderId, QueueId, Dequeued, VisibleOn, ExpiresOn, CreatedOn,
    ModifiedOn, Payload)
VALUES (@ServiceId, @ProviderId, @QueueId, 0, now(), now() + make_interval(secs => @ExpiryTimeout), now(), now(),
    @Payload)
RETURNING ServiceId, ProviderId, QueueId, MessageId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- The receiver's poll (see orleans_stream_get_messages).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('GetStreamMessagesKey', $q$
SELECT ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn, Payload
FROM orleans_stream_get_messages(@ServiceId, @ProviderId, @QueueId, @MaxCount, @MaxAttempts, @VisibilityTimeout,
    @RemovalTimeout, @EvictionInterval, @EvictionBatchSize);
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- @Items is 'MessageId:Receipt|MessageId:Receipt|...'. A positive receipt confirms: the message is deleted if its
-- Dequeued still equals the receipt (a later dequeue by another receiver makes an old receipt stale). A negative
-- receipt releases (the receiver shutting down): the message becomes visible at once if its Dequeued equals -receipt.
-- Returns the key of each message confirmed or released.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ConfirmStreamMessagesKey', $q$
WITH items AS
(
    SELECT split_part(item, ':', 1)::bigint AS MessageId, split_part(item, ':', 2)::integer AS Receipt
    FROM string_to_table(@Items, '|') AS item
    WHERE item <> ''
),
confirmed AS
(
    DELETE FROM OrleansStreamMessage AS m
    USING items AS i
    WHERE m.ServiceId = @ServiceId AND m.ProviderId = @ProviderId AND m.QueueId = @QueueId
        AND m.MessageId = i.MessageId AND i.Receipt > 0 AND m.Dequeued = i.Receipt
    RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId
),
released AS
(
    UPDATE OrleansStreamMessage AS m
    SET VisibleOn = now(), ModifiedOn = now()
    FROM items AS i
    WHERE m.ServiceId = @ServiceId AND m.ProviderId = @ProviderId AND m.QueueId = @QueueId
        AND m.MessageId = i.MessageId AND i.Receipt < 0 AND m.Dequeued = -i.Receipt
    RETURNING m.ServiceId, m.ProviderId, m.QueueId, m.MessageId
)
SELECT ServiceId, ProviderId, QueueId, MessageId FROM confirmed
UNION ALL
SELECT ServiceId, ProviderId, QueueId, MessageId FROM released;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- A delivery to a consumer failed (the provider's stream failure handler): a message with dequeues left becomes
-- visible at once for another attempt; one that has used @MaxAttempts moves to the dead letters for @RemovalTimeout
-- seconds. A message already confirmed or moved is left alone.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('FailStreamMessageKey', $q$
WITH retried AS
(
    UPDATE OrleansStreamMessage
    SET VisibleOn = now(), ModifiedOn = now()
    WHERE ServiceId = @ServiceId AND ProviderId = @ProviderId AND QueueId = @QueueId AND MessageId = @MessageId
        AND Dequeued < @MaxAttempts
    RETURNING MessageId
),
moved AS
(
    DELETE FROM OrleansStreamMessage
    WHERE ServiceId = @ServiceId AND ProviderId = @ProviderId AND QueueId = @QueueId AND MessageId = @MessageId
        AND Dequeued >= @MaxAttempts
    RETURNING ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn, Payload
)
INSERT INTO OrleansStreamDeadLetter (ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn,
    CreatedOn, ModifiedOn, DeadOn, RemoveOn, Payload)
SELECT ServiceId, ProviderId, QueueId, MessageId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn,
    now(), now() + make_interval(secs => @RemovalTimeout), Payload
FROM moved
ON CONFLICT DO NOTHING;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Moves up to @MaxCount exhausted or expired messages of a queue to the dead letters (see
-- orleans_stream_evict_messages). Required by the provider; GetStreamMessagesKey runs the same eviction on schedule.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('EvictStreamMessagesKey', $q$
SELECT orleans_stream_evict_messages(@ServiceId, @ProviderId, @QueueId, @MaxCount, @MaxAttempts, @RemovalTimeout)
    AS Moved;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Deletes up to @MaxCount dead letters of a queue whose removal time has come. Required by the provider;
-- GetStreamMessagesKey runs the same eviction on schedule.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('EvictStreamDeadLettersKey', $q$
SELECT orleans_stream_evict_dead_letters(@ServiceId, @ProviderId, @QueueId, @MaxCount) AS Deleted;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
