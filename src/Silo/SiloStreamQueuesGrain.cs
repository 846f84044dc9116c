using Orleans.Placement;
using Orleans.Runtime.Placement;
using Orleans.Streams;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Silo;

/// <summary>
/// Reports the queues this silo's pulling agents read: the silo's range of the consistent ring mapped to queues by the
/// provider's queue mapper, exactly what Orleans' consistent-ring queue balancer (the one the durable streams use)
/// hands to this silo's agents. Answers empty where the provider has no ring-mapped queues.
/// </summary>
/// <remarks>
/// Orleans keeps its ring provider internal, so it is reached by name; recomputing the ring here instead could
/// disagree with the balancer. A build of Orleans without it answers empty, and the gateway then lists no queues.
/// </remarks>
[OnSiloByKeyPlacement]
[GrainType("silo-stream-queues")]
internal sealed class SiloStreamQueuesGrain(IServiceProvider services) : Grain, ISiloStreamQueuesGrain
{
    public Task<List<int>> GetQueues()
    {
        var mapper = services.GetKeyedService<IQueueAdapterFactory>(StreamNames.Provider)?.GetStreamQueueMapper() as IConsistentRingStreamQueueMapper;
        if (mapper is null || MyRange() is not { } range)
        {
            return Task.FromResult(new List<int>());
        }
        var all = mapper.GetAllQueues().ToList();
        var mine = mapper.GetQueuesForRange(range).ToHashSet();
        return Task.FromResult(Enumerable.Range(0, all.Count).Where(i => mine.Contains(all[i])).ToList());
    }

    private IRingRange? MyRange()
    {
        var providerType = typeof(IQueueAdapterFactory).Assembly.GetType("Orleans.Runtime.ConsistentRing.IConsistentRingProvider")
            ?? typeof(Grain).Assembly.GetType("Orleans.Runtime.ConsistentRing.IConsistentRingProvider")
            ?? Type.GetType("Orleans.Runtime.ConsistentRing.IConsistentRingProvider, Orleans.Runtime");
        var provider = providerType is null ? null : services.GetService(providerType);
        return provider is null ? null : providerType!.GetMethod("GetMyRange")?.Invoke(provider, null) as IRingRange;
    }
}

/// <summary>Places a string-keyed grain on the silo whose address is its key; fails when that silo is not active.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("on-silo-by-key")]
internal sealed class OnSiloByKeyPlacement : PlacementStrategy
{
    public static readonly OnSiloByKeyPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class OnSiloByKeyPlacementAttribute() : PlacementAttribute(OnSiloByKeyPlacement.Instance);

internal sealed class OnSiloByKeyPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString();
        var silo = SpreadByKeyPlacementDirector.ActiveSilos(membership.CurrentSnapshot).FirstOrDefault(s => s.ToString() == key)
            ?? throw new OrleansException($"no active silo has the address '{key}'");
        return Task.FromResult(silo);
    }
}
