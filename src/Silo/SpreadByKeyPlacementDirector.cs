using Orleans.Runtime.Placement;
using ReviewOrleans.Grains;

namespace ReviewOrleans.Silo;

/// <summary>
/// Carries out <see cref="SpreadByKeyPlacement"/>: key k on the k-th active silo (mod their count), in address order.
/// </summary>
/// <remarks>
/// The silos come from the membership snapshot, not from the placement context's compatible silos: a partition grain
/// is activated by stream deliveries, which address it through a grain extension interface, and for those the context
/// offered only the local silo (measured: every partition placed on the pulling agent's silo, "1 compatible silo",
/// with two active). Every silo of a cluster runs the same build and hosts every grain type, so the active silos are
/// the right set; the compatible ones serve only while the snapshot lists none.
/// </remarks>
internal sealed partial class SpreadByKeyPlacementDirector(
    IClusterMembershipService membership,
    ILogger<SpreadByKeyPlacementDirector> logger) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var active = ActiveSilos(membership.CurrentSnapshot);
        var silos = active.Length > 0 ? active : context.GetCompatibleSilos(target);
        var chosen = SpreadByKeyPlacement.Choose(target.GrainIdentity.GetIntegerKey(), silos, s => s.ToString());
        LogPlaced(target.GrainIdentity, chosen, silos.Length);
        return Task.FromResult(chosen);
    }

    /// <summary>The silos a key may be placed on; the rebalancer moves grains by the same list.</summary>
    public static SiloAddress[] ActiveSilos(ClusterMembershipSnapshot snapshot) =>
        [.. snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress)];

    [LoggerMessage(Level = LogLevel.Debug, Message = "Placed {Grain} on {Silo} of {Silos} active silo(s)")]
    private partial void LogPlaced(GrainId grain, SiloAddress silo, int silos);
}
