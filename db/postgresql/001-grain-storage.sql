-- Grain storage: the tables and the four queries that Orleans' ADO.NET grain storage (Microsoft.Orleans.Persistence.AdoNet
-- 10.4.2, invariant "Npgsql") reads from OrleansQuery. Written for ReviewOrleans: the same schema and query texts that
-- the silo's PostgresGrainStorage.EnsureCreated used to create at start (one OrleansStorage table, optimistic concurrency
-- on Version, absent key extensions stored as '' so that the primary key can hold them). This script also creates OrleansQuery,
-- which the clustering, reminders and streaming scripts (002-004) fill.
--
-- Idempotent: tables are created when missing, and each query is upserted so that re-applying replaces its text.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey varchar(64) NOT NULL PRIMARY KEY,
    QueryText text NOT NULL
);

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    ServiceId text NOT NULL,
    GrainTypeString text NOT NULL,
    GrainIdN0 bigint NOT NULL,
    GrainIdN1 bigint NOT NULL,
    GrainIdExtensionString text NOT NULL,
    GrainIdHash integer NOT NULL,
    GrainTypeHash integer NOT NULL,
    PayloadBinary bytea NULL,
    ModifiedOn timestamptz NOT NULL,
    Version integer NOT NULL,
    PRIMARY KEY (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
);

-- A first write (no version) inserts; any other write must find its row at the grain's version. A row gone or at
-- another version returns nothing, and Orleans reports the conflict.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', $q$INSERT INTO OrleansStorage AS s (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString,
    GrainIdHash, GrainTypeHash, PayloadBinary, ModifiedOn, Version)
SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, COALESCE(@GrainIdExtensionString, ''),
    @GrainIdHash, @GrainTypeHash, @PayloadBinary, now(), 1
WHERE CAST(@GrainStateVersion AS integer) IS NULL OR EXISTS (SELECT 1 FROM OrleansStorage WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0
    AND GrainIdN1 = @GrainIdN1 AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, ''))
ON CONFLICT (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString) DO UPDATE SET
    PayloadBinary = excluded.PayloadBinary,
    ModifiedOn = excluded.ModifiedOn,
    Version = s.Version + 1
WHERE s.Version IS NOT DISTINCT FROM CAST(@GrainStateVersion AS integer)
RETURNING s.Version AS NewGrainStateVersion;$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- The row of one grain's state.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', $q$SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0
    AND GrainIdN1 = @GrainIdN1 AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '');$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Clears the payload at the expected version; returns the new version, or nothing on a conflict.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', $q$UPDATE OrleansStorage
SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0
    AND GrainIdN1 = @GrainIdN1 AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '') AND Version IS NOT DISTINCT FROM CAST(@GrainStateVersion AS integer)
RETURNING Version AS NewGrainStateVersion;$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Deletes the row at the expected version; returns the deleted version, or nothing on a conflict.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', $q$DELETE FROM OrleansStorage
WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0
    AND GrainIdN1 = @GrainIdN1 AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '') AND Version IS NOT DISTINCT FROM CAST(@GrainStateVersion AS integer)
RETURNING Version AS NewGrainStateVersion;$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
