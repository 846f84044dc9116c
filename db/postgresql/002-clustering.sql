-- Cluster membership: the tables and queries that Orleans' ADO.NET clustering (Microsoft.Orleans.Clustering.AdoNet
-- 10.4.2, invariant "Npgsql") reads from OrleansQuery, for silos (UseAdoNetClustering on ISiloBuilder) and for clients,
-- which find gateways with GatewaysQueryKey. Written for ReviewOrleans from the provider's contract (the parameters it
-- binds and the columns it reads), not copied from Orleans' scripts. Needs OrleansQuery (001-grain-storage.sql).
--
-- One version row per cluster (DeploymentId = ClusterOptions.ClusterId) guards every membership change: InsertMembership
-- and UpdateMembership succeed only when they find the version Orleans last read (@Version) and bump it in the same
-- statement, returning 1 on success and 0 on a conflict. Reads always return the version row, joined to the members.
-- Idempotent: tables and indexes are created when missing, and each query is upserted so that re-applying replaces it.

CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId text NOT NULL PRIMARY KEY,
    Timestamp timestamptz NOT NULL DEFAULT now(),
    Version integer NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId text NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId),
    Address text NOT NULL,
    Port integer NOT NULL,
    Generation integer NOT NULL,
    SiloName text NOT NULL,
    HostName text NOT NULL,
    Status integer NOT NULL,
    ProxyPort integer NOT NULL DEFAULT 0,
    SuspectTimes text NULL,
    StartTime timestamptz NOT NULL,
    IAmAliveTime timestamptz NOT NULL,
    PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- Creates the cluster's version row (at version 0) when missing; 1 when this call created it, 0 when it existed.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipVersionKey', $q$
WITH created AS
(
    INSERT INTO OrleansMembershipVersionTable (DeploymentId)
    VALUES (@DeploymentId)
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING 1
)
SELECT count(*)::integer AS Created FROM created;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Adds a silo's row if the table is still at @Version and the silo has no row yet, bumping the version with it
-- (the version row's lock serialises concurrent writers); 1 when inserted, 0 otherwise.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipKey', $q$
WITH bumped AS
(
    UPDATE OrleansMembershipVersionTable AS v
    SET Version = v.Version + 1, Timestamp = now()
    WHERE v.DeploymentId = @DeploymentId AND v.Version = @Version
        AND NOT EXISTS (SELECT 1 FROM OrleansMembershipTable AS m
                        WHERE m.DeploymentId = @DeploymentId AND m.Address = @Address
                            AND m.Port = @Port AND m.Generation = @Generation)
    RETURNING v.DeploymentId
),
inserted AS
(
    INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort,
        StartTime, IAmAliveTime)
    SELECT b.DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort,
        @StartTime, @IAmAliveTime
    FROM bumped AS b
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING
    RETURNING 1
)
SELECT count(*)::integer AS Inserted FROM inserted;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Changes a silo's status and suspicions if the table is still at @Version and the row exists, bumping the version
-- with it; 1 when updated, 0 otherwise. IAmAliveTime never moves backwards.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateMembershipKey', $q$
WITH bumped AS
(
    UPDATE OrleansMembershipVersionTable AS v
    SET Version = v.Version + 1, Timestamp = now()
    WHERE v.DeploymentId = @DeploymentId AND v.Version = @Version
        AND EXISTS (SELECT 1 FROM OrleansMembershipTable AS m
                    WHERE m.DeploymentId = @DeploymentId AND m.Address = @Address
                        AND m.Port = @Port AND m.Generation = @Generation)
    RETURNING v.DeploymentId
),
updated AS
(
    UPDATE OrleansMembershipTable AS m
    SET Status = @Status,
        SuspectTimes = @SuspectTimes,
        IAmAliveTime = GREATEST(m.IAmAliveTime, @IAmAliveTime)
    FROM bumped AS b
    WHERE m.DeploymentId = b.DeploymentId AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    RETURNING 1
)
SELECT count(*)::integer AS Updated FROM updated;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- A silo's heartbeat: not versioned, never fails, never moves the time backwards.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateIAmAlivetimeKey', $q$
UPDATE OrleansMembershipTable
SET IAmAliveTime = GREATEST(IAmAliveTime, @IAmAliveTime)
WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- One silo's row with the table version: always one row while the cluster's version row exists (member columns NULL
-- when the silo has no row), as Orleans takes the version from the first row.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadRowKey', $q$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
    m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
FROM OrleansMembershipVersionTable AS v
LEFT JOIN OrleansMembershipTable AS m
    ON m.DeploymentId = v.DeploymentId AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
WHERE v.DeploymentId = @DeploymentId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Every silo's row with the table version, read in one snapshot; one row with NULL members when there are none.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadAllKey', $q$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
    m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
FROM OrleansMembershipVersionTable AS v
LEFT JOIN OrleansMembershipTable AS m ON m.DeploymentId = v.DeploymentId
WHERE v.DeploymentId = @DeploymentId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- The gateways of the cluster's silos in @Status (Orleans passes Active, 3) that listen for clients; used by clients.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('GatewaysQueryKey', $q$
SELECT Address, ProxyPort, Generation
FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Removes the whole cluster: its members, then its version row.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteMembershipTableEntriesKey', $q$
DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Defunct-silo cleanup, one row at a time (10.4.2 prefers this optional key when present): deletes a Dead (6) row only
-- if it still holds the values Orleans read and judged old (start, heartbeat and suspicions), so that a row changed
-- since is left alone. Parameters: @DeploymentId, @Address, @Port, @Generation, @StartTime, @IAmAliveTime,
-- @SuspectTimes (NULL when none).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('CleanupDefunctSiloEntryKey', $q$
DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation
    AND Status = 6
    AND StartTime = @StartTime AND IAmAliveTime = @IAmAliveTime
    AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '');
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- Defunct-silo cleanup in bulk, which 10.4.2 uses only when CleanupDefunctSiloEntryKey is missing: deletes Dead (6)
-- rows that started and last beat before @IAmAliveTime (the cut-off) and carry no suspicions, whose times SQL cannot
-- judge; the per-row query above also removes rows whose suspicions are all older than the cut-off.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId
    AND Status = 6
    AND IAmAliveTime < @IAmAliveTime AND StartTime < @IAmAliveTime
    AND COALESCE(SuspectTimes, '') = '';
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
