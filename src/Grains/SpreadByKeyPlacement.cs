using Orleans.Placement;

namespace ReviewOrleans.Grains;

/// <summary>
/// Places integer-keyed grains round-robin by key over the active silos in address order: key k goes to silo
/// k mod N. The partition grains (16 by default) and the anomaly shards use it, so that N silos hold P/N ± 1
/// partitions each instead of what the default placement happened to give (9, 5 and 2 of 16 over three silos, measured).
/// The silo's director implements it; <see cref="IReviewPartitionGrain.MoveIfMisplaced"/> lets a grain follow it when
/// silos join or leave.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("spread-by-key")]
public sealed class SpreadByKeyPlacement : PlacementStrategy
{
    public static readonly SpreadByKeyPlacement Instance = new();

    /// <summary>The silo for <paramref name="key"/> among <paramref name="silos"/>, in the order every silo computes alike.</summary>
    public static T Choose<T>(long key, IReadOnlyList<T> silos, Func<T, string> address)
    {
        ArgumentOutOfRangeException.ThrowIfZero(silos.Count);
        var ordered = silos.OrderBy(address, StringComparer.Ordinal).ToList();
        return ordered[(int)((ulong)key % (ulong)ordered.Count)];
    }
}

/// <summary>Marks a grain class for <see cref="SpreadByKeyPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SpreadByKeyPlacementAttribute() : PlacementAttribute(SpreadByKeyPlacement.Instance);
