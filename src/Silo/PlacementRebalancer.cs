using Orleans.Runtime;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Grains;

namespace ReviewOrleans.Silo;

/// <summary>
/// Keeps the partition and anomaly grains where <see cref="SpreadByKeyPlacement"/> puts them as silos join and leave.
/// Placement decides only where a grain activates, so a silo that joins would otherwise get no partition until one
/// happened to deactivate. Every <c>Cluster:RebalanceSeconds</c> (10) the first active silo in address order asks
/// each of these grains to move if it is misplaced; a misplaced grain migrates once idle (Orleans' MigrateOnIdle, which
/// asks the placement director again), flushing or saving first. Deactivating instead left some partitions in place
/// for good (measured: four of eight asked every round, never moved), since a partition grain is rarely idle long.
/// Polling rather than reacting to membership events alone also corrects a grain placed while a new silo was active
/// in the membership table but not yet known to the placing silo.
/// </summary>
internal sealed partial class PlacementRebalancer(
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    IGrainFactory grains,
    Microsoft.Extensions.Options.IOptions<PipelineOptions> options,
    IConfiguration config,
    ILogger<PlacementRebalancer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(config.GetValue("Cluster:RebalanceSeconds", 10)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var active = Active(membership.CurrentSnapshot);
                if (active.Length > 0 && active[0] == localSilo.SiloAddress.ToString())
                {
                    await MoveMisplacedAsync(active);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task MoveMisplacedAsync(string[] active)
    {
        var pipeline = options.Value;
        var moves = new List<Task<bool>>();
        for (var partition = 0; partition < pipeline.Partitions; partition++)
        {
            moves.Add(grains.GetGrain<IReviewPartitionGrain>(partition).MoveIfMisplaced(SpreadByKeyPlacement.Choose(partition, active, s => s)));
        }
        for (var shard = 0; shard < pipeline.EffectiveAnomalyShards; shard++)
        {
            moves.Add(grains.GetGrain<IAnomalyGrain>(shard).MoveIfMisplaced(SpreadByKeyPlacement.Choose(shard, active, s => s)));
        }
        try
        {
            var moved = (await Task.WhenAll(moves)).Count(m => m);
            if (moved > 0)
            {
                LogMoved(moved, active.Length);
            }
        }
        catch (Exception ex)
        {
            // Placement stays as it is until the next round; the pipeline works either way.
            LogRebalanceFailed(ex, active.Length);
        }
    }

    private static string[] Active(ClusterMembershipSnapshot snapshot) =>
        [.. SpreadByKeyPlacementDirector.ActiveSilos(snapshot).Select(s => s.ToString()).Order(StringComparer.Ordinal)];

    [LoggerMessage(Level = LogLevel.Information, Message = "Moving {Moved} partition or anomaly grain(s) to their silos among {Silos} active")]
    private partial void LogMoved(int moved, int silos);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the placement of partition and anomaly grains over {Silos} active silo(s) failed")]
    private partial void LogRebalanceFailed(Exception ex, int silos);
}
